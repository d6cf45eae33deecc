#pragma once
// ScaledDotProductAttention on f32: per (batch, head) matrix, Q*K^T through the packed GEMM into
// a scores block that stays in cache, the scaled, masked softmax of each row, then the
// probabilities times V straight into the output. Matrices are split over the thread pool.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for an f32 ScaledDotProductAttention with a floating or boolean mask (or none);
/// otherwise an empty function.
KernelFn make_attention_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
