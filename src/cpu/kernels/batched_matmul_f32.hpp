#pragma once
// MatMul of two f32 activations (attention's Q*K^T and P*V): every matrix of the batch is one
// GEMM through the packed micro-kernels, B packed per matrix at run time; the batch (with numpy
// broadcasting) is split over the thread pool, or one large product over its rows.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is a MatMul of f32 operands of static rank >= 2 whose weight is
/// not a rank-2 constant (make_matmul_f32_kernel takes those); otherwise an empty function.
KernelFn make_batched_matmul_f32_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
