#pragma once
// Concat of any fixed-size element type as row copies: each input contributes one contiguous
// segment to every row of the output (the product of the axes before `axis`), copied with
// memcpy and split over the request's threads.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is a Concat whose inputs have a static rank and an element type
/// of at least one byte (not string); otherwise an empty function.
KernelFn make_concat_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
