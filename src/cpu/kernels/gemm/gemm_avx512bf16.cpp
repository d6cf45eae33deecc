// AVX512_BF16 micro-kernel: a 12x32 tile in 24 zmm accumulators, like the f32 AVX-512 one, but
// each step consumes a pair of K values: A and B hold bf16 pairs packed into 32-bit words, and
// vdpbf16ps adds both products of a pair into an f32 lane. Twice the f32 FMA rate on CPUs
// that have the instruction. Compiled with -mavx512bf16 and the AVX-512 flags.
#include <immintrin.h>

#include <cstdint>

#include "cpu/kernels/gemm/gemm_kernels.hpp"

namespace kiln::cpu::gemm::detail {
namespace {

constexpr int kMr = 12;
constexpr int kNr = 32;

// k counts pairs. a: k groups of kMr words; b: k groups of kNr words.
template <int Rows>
void kernel(int64_t k, const float* a, int64_t /*lda*/, const float* b, float* c, int64_t ldc,
            bool accumulate) {
    __m512 acc0[Rows], acc1[Rows];
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r) {
        acc0[r] = _mm512_setzero_ps();
        acc1[r] = _mm512_setzero_ps();
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
    }
    const auto* aw = reinterpret_cast<const int*>(a);
#pragma GCC unroll 2
    for (int64_t p = 0; p < k; ++p) {
        const __m512bh b0 = reinterpret_cast<__m512bh>(_mm512_load_ps(b));
        const __m512bh b1 = reinterpret_cast<__m512bh>(_mm512_load_ps(b + 16));
#pragma GCC unroll 16
        for (int r = 0; r < Rows; ++r) {
            const __m512bh av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(aw[r]));
            acc0[r] = _mm512_dpbf16_ps(acc0[r], av, b0);
            acc1[r] = _mm512_dpbf16_ps(acc1[r], av, b1);
        }
        aw += kMr;
        b += kNr;
    }
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r) {
        float* row = c + r * ldc;
        if (accumulate) {
            acc0[r] = _mm512_add_ps(acc0[r], _mm512_loadu_ps(row));
            acc1[r] = _mm512_add_ps(acc1[r], _mm512_loadu_ps(row + 16));
        }
        _mm512_storeu_ps(row, acc0[r]);
        _mm512_storeu_ps(row + 16, acc1[r]);
    }
}

// Rows of A are contiguous in K: a row's pairs are its floats rounded in order, then the words
// are transposed into the k-major panel.
void pack_rows(const float* a, int64_t lda, int64_t m0, int64_t p0, int64_t mc, int64_t kc,
               int64_t k, uint32_t* out) {
    alignas(64) uint32_t row_words[kMr][16];
    for (int64_t i0 = 0; i0 < mc; i0 += kMr) {
        const int rows = static_cast<int>(mc - i0 < kMr ? mc - i0 : kMr);
        uint32_t* panel = out + i0 * kc;
        for (int64_t p = 0; p < kc; p += 16) {
            const int64_t pairs = kc - p < 16 ? kc - p : 16;
            const int64_t col = 2 * (p0 + p);
            const int64_t avail = k - col < 32 ? (k - col > 0 ? k - col : 0) : 32;
            const __mmask16 lo_mask = static_cast<__mmask16>(avail >= 16 ? 0xFFFF : (1u << avail) - 1);
            const __mmask16 hi_mask =
                static_cast<__mmask16>(avail >= 32 ? 0xFFFF : avail > 16 ? (1u << (avail - 16)) - 1 : 0);
            for (int r = 0; r < rows; ++r) {
                const float* src = a + (m0 + i0 + r) * lda + col;
                const __m512 lo = _mm512_maskz_loadu_ps(lo_mask, src);
                const __m512 hi = _mm512_maskz_loadu_ps(hi_mask, src + 16);
                _mm512_store_si512(row_words[r],
                                   reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
            }
            for (int64_t q = 0; q < pairs; ++q) {
                uint32_t* d = panel + (p + q) * kMr;
                for (int r = 0; r < rows; ++r) d[r] = row_words[r][q];
                for (int r = rows; r < kMr; ++r) d[r] = 0;
            }
        }
    }
}

// A stored transposed ([K, M], as im2col leaves it): a pair is two K rows at the same column, so
// two rows of 16 columns are rounded together and their halves interleaved.
void pack_columns(const float* a, int64_t lda, int64_t m0, int64_t p0, int64_t mc, int64_t kc,
                  int64_t k, uint32_t* out) {
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25,
                                                9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2,
                                                17, 1, 16, 0);
    for (int64_t i0 = 0; i0 < mc; i0 += kMr) {
        const int rows = static_cast<int>(mc - i0 < kMr ? mc - i0 : kMr);
        const __mmask16 load = static_cast<__mmask16>((1u << rows) - 1);
        uint32_t* panel = out + i0 * kc;
        for (int64_t p = 0; p < kc; ++p) {
            const int64_t r0 = 2 * (p0 + p);
            const __m512 lo = r0 < k ? _mm512_maskz_loadu_ps(load, a + r0 * lda + m0 + i0)
                                     : _mm512_setzero_ps();
            const __m512 hi = r0 + 1 < k ? _mm512_maskz_loadu_ps(load, a + (r0 + 1) * lda + m0 + i0)
                                         : _mm512_setzero_ps();
            const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
            const __m512i words = _mm512_permutexvar_epi16(interleave, both);
            _mm512_mask_storeu_epi32(panel + p * kMr, static_cast<__mmask16>((1u << kMr) - 1),
                                     words);
        }
    }
}

void pack_a_pairs(const float* a, int64_t lda, bool trans_a, int64_t m0, int64_t p0, int64_t mc,
                  int64_t kc, int64_t k, float* out) {
    auto* words = reinterpret_cast<uint32_t*>(out);
    if (trans_a)
        pack_columns(a, lda, m0, p0, mc, kc, k, words);
    else
        pack_rows(a, lda, m0, p0, mc, kc, k, words);
}

constexpr KernelSet kSet = {
    .mr = kMr,
    .nr = kNr,
    .mc = 72,
    .kc = 512,  // pairs: the same bytes per B micro-panel as the f32 kernel's 1024 floats
    .nc = 2048,
    .rows = {nullptr, kernel<1>, kernel<2>, kernel<3>, kernel<4>, kernel<5>, kernel<6>, kernel<7>,
             kernel<8>, kernel<9>, kernel<10>, kernel<11>, kernel<12>},
    .direct = {},
    .bf16_pairs = true,
    .pack_a_pairs = pack_a_pairs};

}  // namespace

const KernelSet& avx512bf16_kernels() { return kSet; }

}  // namespace kiln::cpu::gemm::detail
