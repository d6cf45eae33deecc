#include "cpu/kernels/conv/im2col.hpp"

#include <algorithm>

namespace kiln::cpu::conv {

// Rows [c0, c1) of the unfolding: col[(c*kh + i)*kw + j][oy*ow + ox] =
// x[c, oy*sy - pt + i*dy, ox*sx - pl + j*dx] (0 outside).
void im2col(const float* x, const ConvSpec& s, const Geometry& g, int64_t c0, int64_t c1,
            float* col) {
    const int64_t m = g.oh * g.ow;
    for (int64_t c = c0; c < c1; ++c) {
        const float* xc = x + c * g.h * g.w;
        for (int64_t i = 0; i < s.kh; ++i) {
            for (int64_t j = 0; j < s.kw; ++j) {
                float* row = col + ((c * s.kh + i) * s.kw + j) * m;
                // Output columns whose input column lies inside the image: [ox0, ox1).
                const int64_t off = j * g.dx - g.pl;
                int64_t ox0 = off >= 0 ? 0 : (-off + g.sx - 1) / g.sx;
                int64_t ox1 = g.w - off <= 0 ? 0 : (g.w - off + g.sx - 1) / g.sx;
                ox0 = std::min(ox0, g.ow);
                ox1 = std::clamp(ox1, ox0, g.ow);
                for (int64_t oy = 0; oy < g.oh; ++oy) {
                    const int64_t iy = oy * g.sy - g.pt + i * g.dy;
                    float* dst = row + oy * g.ow;
                    if (iy < 0 || iy >= g.h) {
                        std::fill(dst, dst + g.ow, 0.f);
                        continue;
                    }
                    const float* src = xc + iy * g.w;
                    std::fill(dst, dst + ox0, 0.f);
                    if (g.sx == 1) {
                        std::copy(src + ox0 + off, src + ox1 + off, dst + ox0);
                    } else {
                        for (int64_t ox = ox0; ox < ox1; ++ox) dst[ox] = src[ox * g.sx + off];
                    }
                    std::fill(dst + ox1, dst + g.ow, 0.f);
                }
            }
        }
    }
}

}  // namespace kiln::cpu::conv
