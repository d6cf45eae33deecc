#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Fuses MatMul(Q, K^T) [-> Multiply/Divide by a constant scalar] [-> Add(mask)] -> Softmax(last
/// axis) -> MatMul(., V) into ScaledDotProductAttention (opset13). K^T given as
/// Transpose(k, perm) becomes Transpose(k, perm with its last two axes swapped) so that the op
/// reads K as [..., S, E]. Intermediates used elsewhere (attention probabilities returned as an
/// output, say) prevent the fusion.
class AttentionFusion : public ModelPass {
public:
    std::string name() const override { return "AttentionFusion"; }
    bool run(Model& model) override;
};

}  // namespace kiln
