// AVX2+FMA micro-kernel: a 6x16 tile held in 12 ymm accumulators (two B loads and one broadcast
// register leave 16 - 15 = 1 spare). Compiled with -mavx2 -mfma.
#include <immintrin.h>

#include "cpu/kernels/gemm/gemm_kernels.hpp"

namespace kiln::cpu::gemm::detail {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

// Direct reads A in place (row r, step p at a[r * lda + p]) instead of from a packed panel.
template <int Rows, bool Direct>
void kernel(int64_t k, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
            bool accumulate) {
    const int64_t a_row = Direct ? lda : 1, a_step = Direct ? 1 : kMr;
    __m256 acc0[Rows], acc1[Rows];
#pragma GCC unroll 8
    for (int r = 0; r < Rows; ++r) {
        acc0[r] = _mm256_setzero_ps();
        acc1[r] = _mm256_setzero_ps();
        _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t p = 0; p < k; ++p) {
        const __m256 b0 = _mm256_load_ps(b);
        const __m256 b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
        for (int r = 0; r < Rows; ++r) {
            const __m256 av = _mm256_broadcast_ss(a + r * a_row);
            acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
        }
        a += a_step;
        b += kNr;
    }
#pragma GCC unroll 8
    for (int r = 0; r < Rows; ++r) {
        float* row = c + r * ldc;
        if (accumulate) {
            acc0[r] = _mm256_add_ps(acc0[r], _mm256_loadu_ps(row));
            acc1[r] = _mm256_add_ps(acc1[r], _mm256_loadu_ps(row + 8));
        }
        _mm256_storeu_ps(row, acc0[r]);
        _mm256_storeu_ps(row + 8, acc1[r]);
    }
}

constexpr KernelSet kSet = {.mr = kMr,
                            .nr = kNr,
                            .mc = 72,
                            .kc = 1024,
                            .nc = 2048,
                            .rows = {nullptr, kernel<1, false>, kernel<2, false>, kernel<3, false>,
                                     kernel<4, false>, kernel<5, false>, kernel<6, false>},
                            .direct = {nullptr, kernel<1, true>, kernel<2, true>, kernel<3, true>,
                                       kernel<4, true>, kernel<5, true>, kernel<6, true>}};

}  // namespace

const KernelSet& avx2_kernels() { return kSet; }

}  // namespace kiln::cpu::gemm::detail
