#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Fuses MatMul(x, constant 2-D weight) -> Add(constant bias of N values along the last axis)
/// into one kiln1 FullyConnected node, so the bias is added in the GEMM's epilogue. ONNX Gemm
/// (MatMul with transpose_b, then Add of C) takes the same path. Not fused when the product is
/// used elsewhere too, or when the bias would broadcast the output to another shape.
class MatMulBiasFusion : public ModelPass {
public:
    std::string name() const override { return "MatMulBiasFusion"; }
    bool run(Model& model) override;
};

}  // namespace kiln
