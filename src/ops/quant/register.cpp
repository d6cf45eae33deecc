#include "core/op_def.hpp"

namespace kiln {

void register_quant_ops(OpRegistry& r) {
    (void)r;
}

}  // namespace kiln
