#include "cpu/kernels/conv/nchw_gemm_conv.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cpu/kernels/conv/conv_epilogue.hpp"
#include "cpu/kernels/conv/conv_isa.hpp"
#include "cpu/kernels/conv/conv_scratch.hpp"
#include "cpu/kernels/conv/im2col.hpp"
#include "cpu/kernels/gemm/gemm_kernels.hpp"

namespace kiln::cpu::conv {

namespace {

const gemm::detail::KernelSet& kernel_set(gemm::Isa isa) {
    switch (isa) {
        case gemm::Isa::avx512:
            return gemm::detail::avx512_kernels();
        case gemm::Isa::avx2:
            return gemm::detail::avx2_kernels();
        case gemm::Isa::scalar:
            break;
    }
    return gemm::detail::scalar_kernels();
}

float* aligned_floats(int64_t n) {
    const size_t bytes =
        (static_cast<size_t>(std::max<int64_t>(n, 16)) * sizeof(float) + 63) / 64 * 64;
    auto* p = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p) throw std::bad_alloc();
    return p;
}

// B panels for positions [m0, m0 + cols) of a [K, m] row-major source: panel q holds K groups of
// NR floats (positions m0 + q*NR ...), zero padded past `cols`. NR is a compile-time constant so
// the row copies inline instead of calling memcpy.
template <int NR>
void pack_positions(const float* src, int64_t m, int64_t k, int64_t m0, int64_t cols, float* dst) {
    for (int64_t q = 0; q * NR < cols; ++q) {
        const int64_t n = std::min<int64_t>(NR, cols - q * NR);
        float* d = dst + q * NR * k;
        const float* s = src + m0 + q * NR;
        if (n == NR) {
            for (int64_t p = 0; p < k; ++p) std::memcpy(d + p * NR, s + p * m, sizeof(float) * NR);
        } else {
            for (int64_t p = 0; p < k; ++p) {
                std::memcpy(d + p * NR, s + p * m, sizeof(float) * n);
                std::fill(d + p * NR + n, d + (p + 1) * NR, 0.f);
            }
        }
    }
}

void pack_positions(const float* src, int64_t m, int64_t k, int64_t m0, int64_t cols, int nr,
                    float* dst) {
    switch (nr) {
        case 32:
            return pack_positions<32>(src, m, k, m0, cols, dst);
        case 16:
            return pack_positions<16>(src, m, k, m0, cols, dst);
        case 8:
            return pack_positions<8>(src, m, k, m0, cols, dst);
        case 4:
            return pack_positions<4>(src, m, k, m0, cols, dst);
        default:
            break;
    }
    KILN_THROW("conv: no position packing for panels of ", nr, " floats");
}

// One block of the product with the AVX-512 tile kernel: output channels [c0, c1) by positions
// [m0, m0 + cols), the epilogue applied in registers with the last K block.
void nchw_block_in_place(const ConvSpec& spec, const PackedFilters& filters, const float* src,
                         int64_t m, int64_t k, int64_t kc_max, int64_t m0, int64_t cols, int64_t c0,
                         int64_t c1, float* yb, const float* rb) {
    constexpr int mr = detail::kNchwRows, nr = 32;
    const bool vector_epi = spec.act.kind != nn::ActivationKind::sigmoid;
    for (int64_t pc = 0; pc < k; pc += kc_max) {
        const int64_t kc = std::min(kc_max, k - pc);
        const bool last = pc + kc == k;
        for (int64_t ir = c0; ir < c1; ir += mr) {
            const int rows = static_cast<int>(std::min<int64_t>(mr, c1 - ir));
            const float* ap = filters.panel(ir) + pc * mr;
            detail::TileEpilogue epi{spec.act.kind,         spec.act.alpha, spec.act.beta,
                                     spec.bias.data() + ir, nullptr,        m};
            for (int64_t q = 0; q < cols; q += nr) {
                const int n = static_cast<int>(std::min<int64_t>(nr, cols - q));
                epi.res = rb ? rb + ir * m + m0 + q : nullptr;
                detail::nchw_tile_avx512(rows, n, kc, ap, src + pc * m + m0 + q, m,
                                         yb + ir * m + m0 + q, m, pc > 0,
                                         last && vector_epi ? &epi : nullptr);
            }
            if (last && !vector_epi)
                for (int r = 0; r < rows; ++r)
                    apply_epilogue(spec.act, spec.bias[ir + r],
                                   rb ? rb + (ir + r) * m + m0 : nullptr, yb + (ir + r) * m + m0,
                                   cols);
        }
    }
}

}  // namespace

void PackedFilters::Free::operator()(float* p) const { std::free(p); }

PackedFilters::PackedFilters(const float* w, int64_t rows, int64_t k, gemm::Isa isa)
    : rows_(rows), k_(k), isa_(isa) {
    const int mr = kernel_set(isa).mr;
    const int64_t padded = (rows + mr - 1) / mr * mr;
    data_.reset(aligned_floats(padded * k));
    for (int64_t r0 = 0; r0 < padded; r0 += mr) {
        float* d = data_.get() + r0 * k;
        for (int64_t p = 0; p < k; ++p)
            for (int r = 0; r < mr; ++r) d[p * mr + r] = r0 + r < rows ? w[(r0 + r) * k + p] : 0.f;
    }
}

void run_nchw_gemm_conv(const ConvSpec& spec, const Geometry& g, const PackedFilters& filters,
                        const Tensor& x, const Tensor* res, Tensor& y, ThreadPool& pool) {
    const gemm::detail::KernelSet& ks = kernel_set(filters.isa());
    const int mr = ks.mr, nr = ks.nr;
    const int64_t batch = x.shape()[0], m = g.oh * g.ow, cout = spec.cout, k = filters.k();
    const bool in_place = spec.kh == 1 && spec.kw == 1 && g.sy == 1 && g.sx == 1 && g.pt == 0 &&
                          g.pl == 0 && g.oh == g.h && g.ow == g.w;
    // Position blocks: B block (K x nb) stays in L2; enough blocks for every thread.
    const int64_t panels = (m + nr - 1) / nr;
    int64_t nb_panels = std::clamp<int64_t>(64 * 1024 / std::max<int64_t>(k * nr, 1), 1, 8);
    const int64_t want = 4 * static_cast<int64_t>(pool.concurrency());
    while (nb_panels > 1 && (panels + nb_panels - 1) / nb_panels < want) nb_panels /= 2;
    const int64_t nb = nb_panels * nr;
    const int64_t m_blocks = (m + nb - 1) / nb;
    // Output channels split too when positions alone leave threads idle.
    int64_t c_blocks = 1;
    while (m_blocks * c_blocks < want && (cout + c_blocks * 2 - 1) / (c_blocks * 2) >= 2 * mr)
        c_blocks *= 2;
    const int64_t cb = ((cout + c_blocks - 1) / c_blocks + mr - 1) / mr * mr;
    c_blocks = (cout + cb - 1) / cb;
    const int64_t k_blocks = (k + ks.kc - 1) / ks.kc;
    const int64_t kc_max = (k + k_blocks - 1) / k_blocks;

    // AVX-512 reads the input rows in place; the other ISAs' kernels need packed panels.
    const bool in_place_b = filters.isa() == gemm::Isa::avx512;
    float* col = in_place ? nullptr : scratch(0, k * m);
    for (int64_t b = 0; b < batch; ++b) {
        const float* xb = x.data<float>() + b * spec.cin * g.h * g.w;
        if (!in_place) {
            pool.parallel_for(0, spec.cin, spec.kh * spec.kw * m,
                              [&](int64_t c0, int64_t c1) { im2col(xb, spec, g, c0, c1, col); });
        }
        const float* src = in_place ? xb : col;
        float* yb = y.data<float>() + b * cout * m;
        const float* rb = res ? res->data<float>() + b * cout * m : nullptr;
        if (in_place_b) {
            pool.parallel_for(0, m_blocks * c_blocks, nb * cb * k, [&](int64_t lo, int64_t hi) {
                for (int64_t task = lo; task < hi; ++task) {
                    const int64_t m0 = task / c_blocks * nb, cols = std::min(nb, m - m0);
                    const int64_t c0 = task % c_blocks * cb, c1 = std::min(cout, c0 + cb);
                    nchw_block_in_place(spec, filters, src, m, k, kc_max, m0, cols, c0, c1, yb, rb);
                }
            });
            continue;
        }
        pool.parallel_for(0, m_blocks * c_blocks, nb * cb * k, [&](int64_t lo, int64_t hi) {
            float* bpack = scratch(1, nb * k);
            alignas(64) float tile[gemm::detail::kMaxMr * 64];
            for (int64_t task = lo; task < hi; ++task) {
                const int64_t m0 = task / c_blocks * nb, cols = std::min(nb, m - m0);
                const int64_t c0 = task % c_blocks * cb, c1 = std::min(cout, c0 + cb);
                pack_positions(src, m, k, m0, cols, nr, bpack);
                for (int64_t pc = 0; pc < k; pc += kc_max) {
                    const int64_t kc = std::min(kc_max, k - pc);
                    const bool acc = pc > 0, last = pc + kc == k;
                    for (int64_t ir = c0; ir < c1; ir += mr) {
                        const int rows = static_cast<int>(std::min<int64_t>(mr, c1 - ir));
                        const float* ap = filters.panel(ir) + pc * mr;
                        const gemm::detail::MicroKernel kernel = ks.rows[rows];
                        for (int64_t q = 0; q * nr < cols; ++q) {
                            const float* bp = bpack + q * nr * k + pc * nr;
                            float* cp = yb + ir * m + m0 + q * nr;
                            const int64_t n = std::min<int64_t>(nr, cols - q * nr);
                            if (n == nr) {
                                kernel(kc, ap, 0, bp, cp, m, acc);
                                continue;
                            }
                            kernel(kc, ap, 0, bp, tile, nr, false);
                            for (int r = 0; r < rows; ++r) {
                                float* d = cp + r * m;
                                const float* s = tile + r * nr;
                                for (int64_t j = 0; j < n; ++j) d[j] = acc ? d[j] + s[j] : s[j];
                            }
                        }
                        if (last)
                            for (int r = 0; r < rows; ++r)
                                apply_epilogue(spec.act, spec.bias[ir + r],
                                               rb ? rb + (ir + r) * m + m0 : nullptr,
                                               yb + (ir + r) * m + m0, cols);
                    }
                }
            }
        });
    }
}

}  // namespace kiln::cpu::conv
