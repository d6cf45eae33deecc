#include <mutex>

#include "ops/op_list.hpp"

namespace kiln {

#define KILN_OP_FAMILY(name) void register_##name##_ops(OpRegistry&);
#include "ops/op_families.inc"
#undef KILN_OP_FAMILY

const OpRegistry& op_registry() {
    static std::once_flag once;
    std::call_once(once, [] {
        OpRegistry& r = OpRegistry::instance();
#define KILN_OP_FAMILY(name) register_##name##_ops(r);
#include "ops/op_families.inc"
#undef KILN_OP_FAMILY
    });
    return OpRegistry::instance();
}

}  // namespace kiln
