// AVX-512 micro-kernel: a 12x32 tile held in 24 zmm accumulators; B rows are two aligned loads,
// A values are broadcast straight from memory into the FMAs. Compiled with -mavx512f and friends.
#include <immintrin.h>

#include "cpu/kernels/gemm/gemm_kernels.hpp"

namespace kiln::cpu::gemm::detail {
namespace {

constexpr int kMr = 12;
constexpr int kNr = 32;

// Direct reads A in place (row r, step p at a[r * lda + p]) instead of from a packed panel.
template <int Rows, bool Direct>
void kernel(int64_t k, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
            bool accumulate) {
    const int64_t a_row = Direct ? lda : 1, a_step = Direct ? 1 : kMr;
    __m512 acc0[Rows], acc1[Rows];
#pragma GCC unroll 16
    for (int r = 0; r < Rows; ++r) {
        acc0[r] = _mm512_setzero_ps();
        acc1[r] = _mm512_setzero_ps();
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t p = 0; p < k; ++p) {
        const __m512 b0 = _mm512_load_ps(b);
        const __m512 b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
        for (int r = 0; r < Rows; ++r) {
            const __m512 av = _mm512_set1_ps(a[r * a_row]);
            acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
        }
        a += a_step;
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

constexpr KernelSet kSet = {
    .mr = kMr,
    .nr = kNr,
    .mc = 72,
    .kc = 1024,
    .nc = 2048,
    .rows = {nullptr, kernel<1, false>, kernel<2, false>, kernel<3, false>, kernel<4, false>,
             kernel<5, false>, kernel<6, false>, kernel<7, false>, kernel<8, false>,
             kernel<9, false>, kernel<10, false>, kernel<11, false>, kernel<12, false>},
    .direct = {nullptr, kernel<1, true>, kernel<2, true>, kernel<3, true>, kernel<4, true>,
               kernel<5, true>, kernel<6, true>, kernel<7, true>, kernel<8, true>, kernel<9, true>,
               kernel<10, true>, kernel<11, true>, kernel<12, true>}};

}  // namespace

const KernelSet& avx512_kernels() { return kSet; }

}  // namespace kiln::cpu::gemm::detail
