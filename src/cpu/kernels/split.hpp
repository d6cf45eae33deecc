#pragma once
// Split and VariadicSplit of any fixed-size element type as row copies, the mirror of Concat:
// each output takes one contiguous segment of every row of the input (the product of the axes
// before `axis`), copied with memcpy into uninitialized outputs and split over the request's
// threads. Transformers split their stacked q/k/v (and gate/up) projections this way at every
// layer.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// A kernel for `node` when it is a Split or VariadicSplit with a constant axis (and constant
/// split_lengths), an input of static rank and an element type of at least one byte (not
/// string); otherwise an empty function.
KernelFn make_split_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
