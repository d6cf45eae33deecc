#pragma once
#include "cpu/kernels/conv/conv_geometry.hpp"

namespace kiln::cpu::conv {

/// Unfolds input channels [c0, c1) of one image: col[(c*kh + i)*kw + j][oy*ow + ox] =
/// x[c, oy*sy - pt + i*dy, ox*sx - pl + j*dx], 0 outside the image.
void im2col(const float* x, const ConvSpec& s, const Geometry& g, int64_t c0, int64_t c1,
            float* col);

}  // namespace kiln::cpu::conv
