// AVX2+FMA micro-kernel: a 6x16 tile held in 12 ymm accumulators (two B loads and one broadcast
// register leave 16 - 15 = 1 spare). Compiled with -mavx2 -mfma.
#include <immintrin.h>

#include "cpu/kernels/gemm/gemm_kernels.hpp"

namespace kiln::cpu::gemm::detail {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

template <int Rows>
void kernel(int64_t k, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
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
            const __m256 av = _mm256_broadcast_ss(a + r);
            acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
        }
        a += kMr;
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

constexpr KernelSet kSet = {
    kMr, kNr, 120, 256, 2048,
    {nullptr, kernel<1>, kernel<2>, kernel<3>, kernel<4>, kernel<5>, kernel<6>}};

}  // namespace

const KernelSet& avx2_kernels() { return kSet; }

}  // namespace kiln::cpu::gemm::detail
