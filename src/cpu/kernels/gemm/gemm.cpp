// GEMM driver: ISA selection, packing, and the Goto/BLIS loop nest around the micro-kernels.
#include "cpu/kernels/gemm/gemm.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/tensor_allocator.hpp"
#include "cpu/kernels/gemm/gemm_kernels.hpp"
#include "kiln/error.hpp"
#include "kiln/float16.hpp"

namespace kiln::cpu::gemm {
namespace {

constexpr size_t kAlign = 64;
constexpr int64_t kDirectPanels = 4;
constexpr int64_t kAliasedLda = 512;  // floats

float* aligned_floats(size_t count) {
    const size_t bytes =
        std::max<size_t>((count * sizeof(float) + kAlign - 1) / kAlign * kAlign, kAlign);
    auto* p = static_cast<float*>(std::aligned_alloc(kAlign, bytes));
    if (!p) throw std::bad_alloc();
    return p;
}

Isa detect_isa() {
    if (isa_supported(Isa::avx512)) return Isa::avx512;
    if (isa_supported(Isa::avx2)) return Isa::avx2;
    return Isa::scalar;
}

Isa select_isa() {
    Isa isa = detect_isa();
    if (const char* env = std::getenv("KILN_ISA")) {
        const std::string_view v(env);
        Isa cap = isa;
        if (v == "scalar")
            cap = Isa::scalar;
        else if (v == "avx2")
            cap = Isa::avx2;
        else if (v == "avx512")
            cap = Isa::avx512;
        isa = static_cast<Isa>(std::min(static_cast<int>(isa), static_cast<int>(cap)));
    }
    return isa;
}

const detail::KernelSet& kernels(Isa isa) {
    switch (isa) {
        case Isa::avx512_bf16:
            return detail::avx512bf16_kernels();
        case Isa::avx512:
            return detail::avx512_kernels();
        case Isa::avx2:
            return detail::avx2_kernels();
        case Isa::scalar:
            break;
    }
    return detail::scalar_kernels();
}

const detail::KernelSet& checked_kernels(Isa isa) {
    KILN_CHECK(isa_supported(isa), "gemm: ISA ", isa_name(isa), " is not supported by this CPU");
    return kernels(isa);
}

// Packs op(A)[m0:m0+mc, k0:k0+kc] into panels of mr rows: panel i holds kc groups of mr floats
// (k-major), rows past the block zero filled so partial tiles read defined values.
void pack_a(const float* a, int64_t lda, bool trans_a, int64_t m0, int64_t k0, int64_t mc,
            int64_t kc, int mr, float* out) {
    for (int64_t i0 = 0; i0 < mc; i0 += mr) {
        const int rows = static_cast<int>(std::min<int64_t>(mr, mc - i0));
        float* dst = out + i0 * kc;
        if (trans_a) {
            // A^T is [K,M]: each k step's mr values are contiguous.
            for (int64_t p = 0; p < kc; ++p) {
                const float* src = a + (k0 + p) * lda + m0 + i0;
                float* d = dst + p * mr;
                for (int r = 0; r < rows; ++r) d[r] = src[r];
                for (int r = rows; r < mr; ++r) d[r] = 0.f;
            }
        } else {
            // Step through k with all rows at once so the writes stream through one panel
            // (mr x kc can exceed L1) instead of revisiting it once per row.
            const float* src[detail::kMaxMr];
            for (int r = 0; r < rows; ++r) src[r] = a + (m0 + i0 + r) * lda + k0;
            for (int64_t p = 0; p < kc; ++p) {
                float* d = dst + p * mr;
                for (int r = 0; r < rows; ++r) d[r] = src[r][p];
                for (int r = rows; r < mr; ++r) d[r] = 0.f;
            }
        }
    }
}

// Two floats rounded to bf16 in one word, the first in the low half: vdpbf16ps multiplies the
// low halves of A and B together and the high halves together.
uint32_t bf16_pair(float lo, float hi) {
    return static_cast<uint32_t>(bfloat16(lo).bits) | static_cast<uint32_t>(bfloat16(hi).bits) << 16;
}

}  // namespace

bool isa_supported(Isa isa) {
    switch (isa) {
        case Isa::avx512_bf16:
            return isa_supported(Isa::avx512) && __builtin_cpu_supports("avx512bf16");
        case Isa::avx512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
        case Isa::avx2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case Isa::scalar:
            return true;
    }
    return false;
}

Isa best_isa() {
    static const Isa isa = select_isa();
    return isa;
}

// bf16 only where the f32 choice is AVX-512 too, so KILN_ISA caps it like the rest.
Isa packing_isa(bool bf16) {
    static const bool has_bf16 = isa_supported(Isa::avx512_bf16);
    return bf16 && has_bf16 && best_isa() == Isa::avx512 ? Isa::avx512_bf16 : best_isa();
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx512_bf16:
            return "avx512_bf16";
        case Isa::avx512:
            return "avx512";
        case Isa::avx2:
            return "avx2";
        case Isa::scalar:
            break;
    }
    return "scalar";
}

int tile_n(Isa isa) { return kernels(isa).nr; }
int tile_m(Isa isa) { return kernels(isa).mr; }

void PackedB::Free::operator()(float* p) const { free_streamed_memory(p, bytes); }
void Workspace::Free::operator()(float* p) const { std::free(p); }

size_t PackedB::size_bytes() const {
    return static_cast<size_t>((n_ + nr_ - 1) / nr_ * nr_ * depth_) * sizeof(float);
}

PackedB pack_b(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b, Isa isa) {
    const auto& ks = checked_kernels(isa);
    KILN_CHECK(k >= 0 && n >= 0, "pack_b: negative size ", k, "x", n);
    KILN_CHECK(ldb >= (trans_b ? k : n), "pack_b: leading dimension ", ldb, " too small");
    PackedB out;
    out.k_ = k;
    out.n_ = n;
    out.nr_ = ks.nr;
    out.isa_ = isa;
    out.depth_ = ks.bf16_pairs ? (k + 1) / 2 : k;
    const int64_t nr = ks.nr;
    const int64_t panels = (n + nr - 1) / nr;
    // Streamed once per token at decode: its own huge-page mapping when large.
    const size_t packed_bytes = std::max<size_t>(
        static_cast<size_t>(panels * nr * out.depth_) * sizeof(float), kAlign);
    auto* packed = static_cast<float*>(allocate_streamed_memory(packed_bytes));
    if (!packed) throw std::bad_alloc();
    out.data_ = std::unique_ptr<float[], PackedB::Free>(packed, PackedB::Free{packed_bytes});
    float* dst = out.data_.get();
    if (ks.bf16_pairs) {
        auto* words = reinterpret_cast<uint32_t*>(dst);
        auto at = [&](int64_t p, int64_t j) {
            return p < k ? (trans_b ? b[j * ldb + p] : b[p * ldb + j]) : 0.f;
        };
        for (int64_t j0 = 0; j0 < n; j0 += nr) {
            const int64_t cols = std::min(nr, n - j0);
            for (int64_t p = 0; p < k; p += 2, words += nr) {
                for (int64_t j = 0; j < cols; ++j)
                    words[j] = bf16_pair(at(p, j0 + j), at(p + 1, j0 + j));
                for (int64_t j = cols; j < nr; ++j) words[j] = 0;
            }
        }
        return out;
    }
    for (int64_t j0 = 0; j0 < n; j0 += nr) {
        const int64_t cols = std::min(nr, n - j0);
        for (int64_t p = 0; p < k; ++p, dst += nr) {
            for (int64_t j = 0; j < cols; ++j)
                dst[j] = trans_b ? b[(j0 + j) * ldb + p] : b[p * ldb + j0 + j];
            for (int64_t j = cols; j < nr; ++j) dst[j] = 0.f;
        }
    }
    return out;
}

size_t workspace_floats(Isa isa) {
    const auto& ks = kernels(isa);
    return static_cast<size_t>((ks.mc + ks.mr - 1) / ks.mr * ks.mr) * ks.kc;
}

Workspace::Workspace(Isa isa) : data_(aligned_floats(workspace_floats(isa))) {}

Workspace::Workspace()
    : data_(aligned_floats(std::max({workspace_floats(Isa::scalar), workspace_floats(Isa::avx2),
                                     workspace_floats(Isa::avx512),
                                     workspace_floats(Isa::avx512_bf16)}))) {}

void gemm(const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc, int64_t m,
          const GemmOptions& o) {
    const auto& ks = checked_kernels(b.isa());
    const int64_t k = b.k(), n = b.n();
    const int64_t m0 = o.m_begin, m1 = o.m_end < 0 ? m : o.m_end;
    const int64_t n0 = o.n_begin, n1 = o.n_end < 0 ? n : o.n_end;
    KILN_CHECK(m >= 0 && 0 <= m0 && m0 <= m1 && m1 <= m, "gemm: bad row range [", m0, ",", m1,
               ") of ", m);
    KILN_CHECK(0 <= n0 && n0 <= n1 && n1 <= n && n0 % ks.nr == 0, "gemm: bad column range [", n0,
               ",", n1, ") of ", n, " (start must be a multiple of ", ks.nr, ")");
    KILN_CHECK(ldc >= n && lda >= (o.trans_a ? m : k), "gemm: leading dimension too small");
    if (m0 == m1 || n0 == n1) return;
    if (k == 0) {
        if (!o.accumulate)
            for (int64_t i = m0; i < m1; ++i) std::fill(c + i * ldc + n0, c + i * ldc + n1, 0.f);
        return;
    }

    float* ws = o.workspace;
    if (!ws) {
        // Sized for the largest blocks of all ISAs, so one buffer serves any PackedB.
        thread_local Workspace local;
        ws = local.data();
    }
    const int mr = ks.mr, nr = ks.nr;
    alignas(64) float tile[detail::kMaxMr * 64];  // C tile for the last, partial column panel
    // Reading A in place beats packing it (a pass over A per column block), except when rows
    // a multiple of 2 KiB apart alias in L1 and the product is wide enough to amortize packing.
    // bf16 kernels always read packed A: packing is where A is rounded to bf16.
    const bool direct = !ks.bf16_pairs && !o.trans_a &&
                        (lda % kAliasedLda != 0 || n1 - n0 <= kDirectPanels * nr);
    // Loops below run over packed depth: K, or K pairs for bf16.
    const int64_t depth = ks.bf16_pairs ? (k + 1) / 2 : k;
    // Equal K blocks: every block boundary costs a pass of C through the cache.
    const int64_t k_blocks = (depth + ks.kc - 1) / ks.kc;
    const int64_t kc_max = (depth + k_blocks - 1) / k_blocks;

    for (int64_t jc = n0; jc < n1; jc += ks.nc) {
        const int64_t nc = std::min<int64_t>(ks.nc, n1 - jc);
        for (int64_t pc = 0; pc < depth; pc += kc_max) {
            const int64_t kc = std::min<int64_t>(kc_max, depth - pc);
            const bool acc = o.accumulate || pc > 0;
            for (int64_t ic = m0; ic < m1; ic += ks.mc) {
                const int64_t mc = std::min<int64_t>(ks.mc, m1 - ic);
                if (ks.bf16_pairs)
                    ks.pack_a_pairs(a, lda, o.trans_a, ic, pc, mc, kc, k, ws);
                else if (!direct)
                    pack_a(a, lda, o.trans_a, ic, pc, mc, kc, mr, ws);
                for (int64_t jr = jc; jr < jc + nc; jr += nr) {
                    const int64_t cols = std::min<int64_t>(nr, n1 - jr);
                    const float* bp = b.panel(jr) + pc * nr;
                    for (int64_t ir = 0; ir < mc; ir += mr) {
                        const int rows = static_cast<int>(std::min<int64_t>(mr, mc - ir));
                        const float* ap = direct ? a + (ic + ir) * lda + pc : ws + ir * kc;
                        const detail::MicroKernel kernel = direct ? ks.direct[rows] : ks.rows[rows];
                        float* cp = c + (ic + ir) * ldc + jr;
                        if (cols == nr) {
                            kernel(kc, ap, lda, bp, cp, ldc, acc);
                            continue;
                        }
                        kernel(kc, ap, lda, bp, tile, nr, false);
                        for (int r = 0; r < rows; ++r) {
                            float* dst = cp + r * ldc;
                            const float* src = tile + r * nr;
                            for (int64_t j = 0; j < cols; ++j)
                                dst[j] = acc ? dst[j] + src[j] : src[j];
                        }
                    }
                }
            }
        }
    }
}

}  // namespace kiln::cpu::gemm
