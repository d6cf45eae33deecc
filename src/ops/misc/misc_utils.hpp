#pragma once
// Helpers shared by the misc family's kernels.
#include "core/op_def.hpp"
#include "ops/common/float_cast.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln {

void register_spectral(OpRegistry& r);
void register_features(OpRegistry& r);

}  // namespace kiln
