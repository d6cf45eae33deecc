#include "cpu/kernels/conv/depthwise_conv.hpp"

#include <algorithm>
#include <vector>

#include "cpu/kernels/conv/conv_epilogue.hpp"
#include "cpu/kernels/conv/conv_isa.hpp"
#include "cpu/kernels/gemm/gemm.hpp"

namespace kiln::cpu::conv {

namespace {

constexpr int64_t kVector = 16;  // floats per AVX-512 row step

// Any window: the scalar path, and the AVX-512 one's fallback.
void row_scalar(const ConvSpec& s, const Geometry& g, const float* x, int64_t ldx, const float* w,
                float* y) {
    for (int64_t ox = 0; ox < g.ow; ++ox) {
        float acc = 0.f;
        for (int64_t i = 0; i < s.kh; ++i) {
            const float* r = x + i * g.dy * ldx + ox * g.sx;
            for (int64_t j = 0; j < s.kw; ++j) acc += w[i * s.kw + j] * r[j * g.dx];
        }
        y[ox] = acc;
    }
}

}  // namespace

void run_depthwise_conv(const ConvSpec& spec, const Geometry& g, const float* weights,
                        const Tensor& x, const Tensor* res, Tensor& y, ThreadPool& pool) {
    const int64_t channels = spec.cout, planes = x.shape()[0] * channels;
    const int64_t taps = spec.kh * spec.kw;
    const bool vector = gemm::best_isa() == gemm::Isa::avx512 && spec.kh == spec.kw &&
                        (spec.kh == 3 || spec.kh == 5) && g.sx == g.sy &&
                        (g.sx == 1 || g.sx == 2) && g.dx == 1 && g.dy == 1;
    // The padded plane covers every window, plus the overrun of full vectors past the row end.
    const int64_t ow_vec = (g.ow + kVector - 1) / kVector * kVector;
    const int64_t ldx = std::max(g.pl + g.w, (ow_vec + kVector) * g.sx + (spec.kw - 1) * g.dx + 1);
    const int64_t rows = std::max(g.pt + g.h, (g.oh - 1) * g.sy + (spec.kh - 1) * g.dy + 1);
    const int64_t plane_out = g.oh * g.ow;
    pool.parallel_for(0, planes, plane_out * taps * 2, [&](int64_t lo, int64_t hi) {
        // Zeroed once: every plane overwrites the same interior, so the padding stays zero.
        std::vector<float> buf(static_cast<size_t>(rows * ldx + kVector));
        for (int64_t p = lo; p < hi; ++p) {
            const int64_t c = p % channels;
            const float* xp = x.data<float>() + p * g.h * g.w;
            for (int64_t iy = 0; iy < g.h; ++iy)
                std::copy(xp + iy * g.w, xp + (iy + 1) * g.w,
                          buf.data() + (g.pt + iy) * ldx + g.pl);
            const float* w = weights + c * taps;
            float* yp = y.data<float>() + p * plane_out;
            const float* rp = res ? res->data<float>() + p * plane_out : nullptr;
            for (int64_t oy = 0; oy < g.oh; ++oy) {
                const float* xr = buf.data() + oy * g.sy * ldx;
                float* yr = yp + oy * g.ow;
                const detail::TileEpilogue epi{spec.act.kind,
                                               spec.act.alpha,
                                               spec.act.beta,
                                               &spec.bias[c],
                                               rp ? rp + oy * g.ow : nullptr,
                                               0};
                if (!vector ||
                    !detail::depthwise_row_avx512(static_cast<int>(spec.kh), static_cast<int>(g.sx),
                                                  xr, ldx, w, yr, g.ow, &epi)) {
                    row_scalar(spec, g, xr, ldx, w, yr);
                    apply_epilogue(spec.act, spec.bias[c], epi.res, yr, g.ow);
                }
            }
        }
    });
}

}  // namespace kiln::cpu::conv
