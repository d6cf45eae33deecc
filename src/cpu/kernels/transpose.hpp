#pragma once
// Transpose on the CPU device: axes that stay adjacent are merged first, so attention's
// permutations become either copies of contiguous rows ([B,S,H,D] <-> [B,H,S,D]) or tiled 2-D
// transposes ([B,S,H*D] -> [B,H*D,S]); both are split over the thread pool.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for a Transpose of 1-, 2-, 4- or 8-byte elements; otherwise an empty function.
KernelFn make_transpose_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
