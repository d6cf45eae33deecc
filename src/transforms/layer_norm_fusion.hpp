#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Fuses normalizations over the trailing axes into one kiln1 LayerNorm node:
/// - MVN(x, trailing axes, normalize_variance, inside_sqrt) [-> Multiply(const)] [-> Add(const)],
///   the ONNX LayerNormalization translation;
/// - RMSNorm: x * 1/sqrt(ReduceMean(x^2) + eps) [* const], with x^2 as Power(x, 2) or x*x and the
///   division as Divide(x, sqrt) or x * (1 / sqrt).
/// Intermediate values used elsewhere stop the match there.
class LayerNormFusion : public ModelPass {
public:
    std::string name() const override { return "LayerNormFusion"; }
    bool run(Model& model) override;
};

}  // namespace kiln
