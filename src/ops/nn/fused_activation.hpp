#pragma once
// The activations FusedConvolution applies after its bias (and residual) addition: one parsed
// description shared by the reference kernel, the fusion pass and the CPU kernels, so all of them
// compute the same function.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/op_def.hpp"
#include "ops/nn/activation_kind.hpp"

namespace kiln::nn {

struct FusedActivation {
    ActivationKind kind = ActivationKind::none;
    /// clamp: [alpha, beta]; hard_sigmoid: max(0, min(1, alpha * x + beta)).
    float alpha = 0.f, beta = 0.f;

    /// Reads the `activation`, `alpha` and `beta` attributes; throws on an unknown name.
    static FusedActivation from_node(const Node& node);
    /// The attribute value naming `kind`.
    static const char* name(ActivationKind kind);

    /// Computed through double, as the unfused elementwise reference kernels do.
    float operator()(float v) const {
        const double x = v;
        switch (kind) {
            case ActivationKind::none:
                return v;
            case ActivationKind::relu:
                return v > 0.f || std::isnan(v) ? v : 0.f;
            case ActivationKind::clamp:
                if (std::isnan(v)) return v;
                return std::min(std::max(v, alpha), beta);
            case ActivationKind::hswish:
                return static_cast<float>(x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0);
            case ActivationKind::hsigmoid:
                return static_cast<float>(std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0);
            case ActivationKind::hard_sigmoid:
                return static_cast<float>(
                    std::max(0.0, std::min(1.0, double{alpha} * x + double{beta})));
            case ActivationKind::sigmoid:
                return static_cast<float>(1.0 / (1.0 + std::exp(-x)));
        }
        return v;
    }
};

}  // namespace kiln::nn
