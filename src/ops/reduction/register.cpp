#include "core/op_def.hpp"
#include "ops/reduction/reduction_utils.hpp"

namespace kiln {

void register_reduction_ops(OpRegistry& r) {
    register_reduce(r);
    register_softmax_topk(r);
    register_linalg(r);
}

}  // namespace kiln
