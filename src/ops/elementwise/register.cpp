#include "core/op_def.hpp"
#include "ops/elementwise/ew_common.hpp"

namespace kiln {

void register_elementwise_ops(OpRegistry& r) {
    ew::register_binary(r);
    ew::register_unary(r);
    ew::register_activation(r);
    ew::register_convert(r);
}

}  // namespace kiln
