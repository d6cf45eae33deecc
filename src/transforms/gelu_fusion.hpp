#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Fuses the elementwise chains exporters write for GELU into one Gelu (opset7) node:
/// - erf form 0.5 * x * (1 + erf(x / sqrt(2))) (approximation_mode ERF);
/// - tanh form 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) (TANH), with x^3 as
///   Power(x, 3), x * (x * x) or (x * x) * x.
/// Both accept x / sqrt(2) or x * (1/sqrt(2)), any operand order, and the factors 0.5 and x
/// applied in any grouping. Intermediate values used elsewhere prevent the fusion.
class GeluFusion : public ModelPass {
public:
    std::string name() const override { return "GeluFusion"; }
    bool run(Model& model) override;
};

}  // namespace kiln
