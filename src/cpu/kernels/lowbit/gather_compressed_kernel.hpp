#pragma once
// The CPU kernel of GatherCompressed (an embedding lookup on low-bit weights): rows dequantized
// from the same packed layout the compressed linear layers stream, so a tied embedding and output
// projection hold one copy of the table.
#include "cpu/kernel_context.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

/// Null unless `node` is a GatherCompressed with constant weights, scale and zero point whose
/// weights another node reads too (KernelContext::readers_of): a tied embedding.
KernelFn make_gather_compressed_kernel(const Node& node, const KernelContext& kc);

}  // namespace kiln::cpu
