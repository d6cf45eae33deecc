#include "core/op_def.hpp"
#include "ops/misc/misc_utils.hpp"

namespace kiln {

void register_misc_ops(OpRegistry& r) {
    register_spectral(r);
    register_features(r);
}

}  // namespace kiln
