#pragma once
// What a convolution kernel decides when the model is compiled, and the geometry it resolves for
// the input extents it gets at run time.
#include <cstdint>
#include <vector>

#include "ops/nn/fused_activation.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::cpu::conv {

/// The epilogue and window of one fused convolution, fixed at compile time.
struct ConvSpec {
    int64_t cin = 0, cout = 0, kh = 1, kw = 1;
    nn::Window window;        // pads still unresolved when auto_pad is set
    std::vector<float> bias;  // cout values (zeros when nothing was fused)
    nn::FusedActivation act;
    bool residual = false;
};

/// The window resolved for an H x W input.
struct Geometry {
    int64_t h = 0, w = 0, oh = 0, ow = 0;
    int64_t sy = 1, sx = 1, dy = 1, dx = 1, pt = 0, pl = 0;
};

Geometry resolve_geometry(const Node& node, const ConvSpec& spec, int64_t h, int64_t w);

}  // namespace kiln::cpu::conv
