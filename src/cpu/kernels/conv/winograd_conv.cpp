#include "cpu/kernels/conv/winograd_conv.hpp"

#include <algorithm>

#include "cpu/kernels/conv/conv_epilogue.hpp"
#include "cpu/kernels/conv/conv_isa.hpp"
#include "cpu/kernels/conv/conv_scratch.hpp"
#include "cpu/kernels/gemm/gemm.hpp"

namespace kiln::cpu::conv {

namespace {

constexpr int kTiles = 16;  // tiles per transform vector
constexpr int kCols = 32;   // tile-kernel columns

}  // namespace

WinogradFilters::WinogradFilters(const float* w, int64_t cout, int64_t cin) {
    // U = G g G^T with G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1], one [O, C] matrix per element.
    static const double kG[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
    std::vector<float> u(static_cast<size_t>(16 * cout * cin));
    for (int64_t o = 0; o < cout; ++o) {
        for (int64_t c = 0; c < cin; ++c) {
            const float* g = w + (o * cin + c) * 9;
            double t[4][3];
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 3; ++j)
                    t[i][j] = kG[i][0] * g[j] + kG[i][1] * g[3 + j] + kG[i][2] * g[6 + j];
            for (int i = 0; i < 4; ++i)
                for (int j = 0; j < 4; ++j)
                    u[static_cast<size_t>(((i * 4 + j) * cout + o) * cin + c)] = static_cast<float>(
                        t[i][0] * kG[j][0] + t[i][1] * kG[j][1] + t[i][2] * kG[j][2]);
        }
    }
    for (int e = 0; e < 16; ++e)
        u_.push_back(std::make_unique<PackedFilters>(u.data() + e * cout * cin, cout, cin,
                                                     gemm::Isa::avx512));
}

bool winograd_applies(const ConvSpec& spec, const Geometry& g) {
    // Below 14x14 the 16 products of tiles fill the 32-wide kernel columns poorly.
    return gemm::best_isa() == gemm::Isa::avx512 && spec.kh == 3 && spec.kw == 3 && g.sy == 1 &&
           g.sx == 1 && g.dy == 1 && g.dx == 1 && g.oh >= 14 && g.ow >= 14;
}

void run_winograd_conv(const ConvSpec& spec, const Geometry& g, const WinogradFilters& filters,
                       const Tensor& x, const Tensor* res, Tensor& y, ThreadPool& pool) {
    const int64_t cin = spec.cin, cout = spec.cout, batch = x.shape()[0];
    const int64_t th = (g.oh + 1) / 2, tw = (g.ow + 1) / 2, tiles = th * tw;
    // Padded plane: every 4x4 patch inside, plus the overrun of full 16-tile loads.
    const int64_t tw_vec = (tw + kTiles - 1) / kTiles * kTiles;
    const int64_t pw = std::max(g.pl + g.w, 2 * tw_vec + 4) + kCols;
    const int64_t ph = std::max(g.pt + g.h, 2 * th + 2);
    float* padded = scratch(0, cin * ph * pw);
    float* v = scratch(1, 16 * cin * tiles);
    float* m = scratch(2, 16 * cout * tiles);
    const bool vector_epi = spec.act.kind != nn::ActivationKind::sigmoid;
    const int mr = detail::kNchwRows;
    const int64_t col_blocks = (tiles + kCols * 4 - 1) / (kCols * 4);
    const int64_t row_blocks = (cout + 4 * mr - 1) / (4 * mr);

    for (int64_t b = 0; b < batch; ++b) {
        const float* xb = x.data<float>() + b * cin * g.h * g.w;
        float* yb = y.data<float>() + b * cout * g.oh * g.ow;
        const float* rb = res ? res->data<float>() + b * cout * g.oh * g.ow : nullptr;
        pool.parallel_for(0, cin, ph * pw + tiles * 64, [&](int64_t c0, int64_t c1) {
            for (int64_t c = c0; c < c1; ++c) {
                float* p = padded + c * ph * pw;
                std::fill(p, p + ph * pw, 0.f);
                for (int64_t iy = 0; iy < g.h; ++iy)
                    std::copy(xb + (c * g.h + iy) * g.w, xb + (c * g.h + iy + 1) * g.w,
                              p + (g.pt + iy) * pw + g.pl);
                for (int64_t ty = 0; ty < th; ++ty) {
                    const float* rows[4] = {p + 2 * ty * pw, p + (2 * ty + 1) * pw,
                                            p + (2 * ty + 2) * pw, p + (2 * ty + 3) * pw};
                    for (int64_t tx = 0; tx < tw; tx += kTiles)
                        detail::winograd_input_avx512(
                            rows, tx, static_cast<int>(std::min<int64_t>(kTiles, tw - tx)),
                            v + c * tiles + ty * tw + tx, cin * tiles);
                }
            }
        });
        // M_e[O, tiles] = U_e[O, C] * V_e[C, tiles] for the 16 elements e.
        pool.parallel_for(
            0, 16 * row_blocks * col_blocks, 4 * mr * 4 * kCols * cin, [&](int64_t lo, int64_t hi) {
                for (int64_t task = lo; task < hi; ++task) {
                    const int e = static_cast<int>(task / (row_blocks * col_blocks));
                    const int64_t rest = task % (row_blocks * col_blocks);
                    const int64_t r0 = rest / col_blocks * 4 * mr;
                    const int64_t r1 = std::min(cout, r0 + 4 * mr);
                    const int64_t t0 = rest % col_blocks * 4 * kCols;
                    const int64_t t1 = std::min(tiles, t0 + 4 * kCols);
                    const PackedFilters& u = filters.matrix(e);
                    const float* ve = v + e * cin * tiles;
                    float* me = m + e * cout * tiles;
                    for (int64_t r = r0; r < r1; r += mr)
                        for (int64_t t = t0; t < t1; t += kCols)
                            detail::nchw_tile_avx512(
                                static_cast<int>(std::min<int64_t>(mr, r1 - r)),
                                static_cast<int>(std::min<int64_t>(kCols, t1 - t)), cin, u.panel(r),
                                ve + t, tiles, me + r * tiles + t, tiles, false, nullptr);
                }
            });
        pool.parallel_for(0, cout, tiles * 64, [&](int64_t o0, int64_t o1) {
            for (int64_t o = o0; o < o1; ++o) {
                float* yo = yb + o * g.oh * g.ow;
                const float* ro = rb ? rb + o * g.oh * g.ow : nullptr;
                for (int64_t ty = 0; ty < th; ++ty) {
                    const bool two_rows = 2 * ty + 1 < g.oh;
                    for (int64_t tx = 0; tx < tw; tx += kTiles) {
                        const int64_t off = 2 * ty * g.ow + 2 * tx;
                        detail::TileEpilogue epi{
                            vector_epi ? spec.act.kind : nn::ActivationKind::none,
                            spec.act.alpha,
                            spec.act.beta,
                            &spec.bias[o],
                            ro ? ro + off : nullptr,
                            g.ow};
                        detail::winograd_output_avx512(
                            m + o * tiles + ty * tw + tx, cout * tiles,
                            static_cast<int>(std::min<int64_t>(kTiles, tw - tx)), yo + off, g.ow,
                            static_cast<int>(std::min<int64_t>(2 * kTiles, g.ow - 2 * tx)),
                            two_rows, epi);
                    }
                    if (!vector_epi)
                        for (int64_t i = 0; i < (two_rows ? 2 : 1); ++i)
                            apply_epilogue(spec.act, 0.f, nullptr, yo + (2 * ty + i) * g.ow, g.ow);
                }
            }
        });
    }
}

}  // namespace kiln::cpu::conv
