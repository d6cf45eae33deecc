#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Fuses the decompression subgraph of a low-bit weight (docs/GENAI.md, "Compressed weights":
/// Const i8/u8/i4/u4 -> Convert f32 -> [Subtract zero point] -> Multiply scale -> [Reshape])
/// with the MatMul(x, W, transpose_b) that reads it, and a constant bias Add after it, into one
/// kiln1 FullyConnectedCompressed; and with a Gather on axis 0 (embeddings) into
/// GatherCompressed. The fused nodes read the low-bit constants themselves, so the weights stay
/// compressed in memory. Runs before MatMulBiasFusion.
class FuseCompressedWeights : public ModelPass {
public:
    std::string name() const override { return "FuseCompressedWeights"; }
    bool run(Model& model) override;
};

}  // namespace kiln
