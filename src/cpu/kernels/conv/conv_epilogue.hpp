#pragma once
// The epilogue of a fused convolution: y = act(y + bias + residual) over one contiguous run of an
// output channel, applied by the kernels right after they write that run, while it is in cache.
#include <cstdint>

#include "ops/nn/fused_activation.hpp"

namespace kiln::cpu::conv {

/// y[i] = act(y[i] + bias + res[i]) for i < n; `res` may be null (no residual).
void apply_epilogue(const nn::FusedActivation& act, float bias, const float* res, float* y,
                    int64_t n);

}  // namespace kiln::cpu::conv
