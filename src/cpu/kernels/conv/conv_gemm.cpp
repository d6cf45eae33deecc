#include "cpu/kernels/conv/conv_gemm.hpp"

#include <algorithm>

#include "cpu/kernels/conv/conv_epilogue.hpp"
#include "cpu/kernels/conv/conv_scratch.hpp"
#include "cpu/kernels/conv/im2col.hpp"

namespace kiln::cpu::conv {

namespace {

struct Tiling {
    int64_t mb, nb, m_blocks, n_blocks;
};

// Row blocks over all output channels first: each block of the input is then packed once. The
// block's transposed copy must stay in L2 for the epilogue; columns split only when there are
// too few rows to keep every thread busy.
Tiling choose_tiling(int64_t m, int64_t n, int64_t nr, int64_t mr, int threads) {
    constexpr int64_t kBlockFloats = 48 * 1024;
    Tiling t;
    t.nb = (n + nr - 1) / nr * nr;
    t.mb = std::clamp<int64_t>(kBlockFloats / t.nb / mr * mr, 2 * mr, 16 * mr);
    auto count = [&] {
        t.m_blocks = (m + t.mb - 1) / t.mb;
        t.n_blocks = (n + t.nb - 1) / t.nb;
        return t.m_blocks * t.n_blocks;
    };
    const int64_t want = 4 * static_cast<int64_t>(threads);
    while (count() < want && t.mb > 2 * mr) t.mb = std::max(2 * mr, t.mb / 2 / mr * mr);
    while (count() < want && t.nb > 2 * nr) t.nb = (t.nb / 2 + nr - 1) / nr * nr;
    return t;
}

}  // namespace

void run_gemm_conv(const ConvSpec& spec, const Geometry& g, const gemm::PackedB& filters,
                   const Tensor& x, const Tensor* res, Tensor& y, ThreadPool& pool) {
    const int64_t batch = x.shape()[0], m = g.oh * g.ow, n = spec.cout, k = filters.k();
    const bool in_place = spec.kh == 1 && spec.kw == 1 && g.sy == 1 && g.sx == 1 && g.pt == 0 &&
                          g.pl == 0 && g.oh == g.h && g.ow == g.w;
    float* col = in_place ? nullptr : scratch(0, k * m);
    float* yt = scratch(1, m * n);
    const Tiling t =
        choose_tiling(m, n, filters.nr(), gemm::tile_m(filters.isa()), pool.concurrency());
    for (int64_t b = 0; b < batch; ++b) {
        const float* xb = x.data<float>() + b * spec.cin * g.h * g.w;
        if (!in_place) {
            pool.parallel_for(0, spec.cin, spec.kh * spec.kw * m,
                              [&](int64_t c0, int64_t c1) { im2col(xb, spec, g, c0, c1, col); });
        }
        const float* a = in_place ? xb : col;
        float* yb = y.data<float>() + b * n * m;
        const float* rb = res ? res->data<float>() + b * n * m : nullptr;
        pool.parallel_for(0, t.m_blocks * t.n_blocks, t.mb * t.nb * k, [&](int64_t lo, int64_t hi) {
            for (int64_t task = lo; task < hi; ++task) {
                const int64_t m0 = task / t.n_blocks * t.mb, m1 = std::min(m, m0 + t.mb);
                const int64_t n0 = task % t.n_blocks * t.nb, n1 = std::min(n, n0 + t.nb);
                gemm::GemmOptions o;
                o.trans_a = true;
                o.m_begin = m0;
                o.m_end = m1;
                o.n_begin = n0;
                o.n_end = n1;
                gemm::gemm(a, m, filters, yt, n, m, o);
                for (int64_t c = n0; c < n1; ++c) {
                    float* dst = yb + c * m + m0;
                    const float* src = yt + m0 * n + c;
                    for (int64_t p = 0; p < m1 - m0; ++p) dst[p] = src[p * n];
                    apply_epilogue(spec.act, spec.bias[c], rb ? rb + c * m + m0 : nullptr, dst,
                                   m1 - m0);
                }
            }
        });
    }
}

}  // namespace kiln::cpu::conv
