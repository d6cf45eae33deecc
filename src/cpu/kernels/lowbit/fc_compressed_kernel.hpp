#pragma once
// The CPU kernel of FullyConnectedCompressed: weights repacked at compile time
// (lowbit_layout.hpp), activation rows quantized to int8 per call, the product split over the
// stream's threads by panels of output channels.
#include "cpu/kernel_context.hpp"
#include "cpu/kernels/lowbit/lowbit_kernels.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// Null unless `node` is a FullyConnectedCompressed with constant weights, bias, scale and zero
/// point and an f32 input. Runs the kernels of lowbit::best_isa().
KernelFn make_fc_compressed_kernel(const Node& node, const KernelContext& kc);
/// The same with the kernels of `isa` (tests compare the ISAs in one process).
KernelFn make_fc_compressed_kernel(const Node& node, const KernelContext& kc, lowbit::Isa isa);

}  // namespace kiln::cpu
