// Portable micro-kernel (4x8 tile) for CPUs without AVX2+FMA; built with the generic flags, so
// the compiler may still vectorize it with the baseline SSE2.
#include "cpu/kernels/gemm/gemm_kernels.hpp"

namespace kiln::cpu::gemm::detail {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;

template <int Rows>
void kernel(int64_t k, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
    float acc[Rows][kNr] = {};
    for (int64_t p = 0; p < k; ++p) {
        for (int r = 0; r < Rows; ++r) {
            const float av = a[r];
            for (int j = 0; j < kNr; ++j) acc[r][j] += av * b[j];
        }
        a += kMr;
        b += kNr;
    }
    for (int r = 0; r < Rows; ++r) {
        float* row = c + r * ldc;
        for (int j = 0; j < kNr; ++j) row[j] = accumulate ? row[j] + acc[r][j] : acc[r][j];
    }
}

constexpr KernelSet kSet = {kMr, kNr, 128, 256, 2048,
                            {nullptr, kernel<1>, kernel<2>, kernel<3>, kernel<4>}};

}  // namespace

const KernelSet& scalar_kernels() { return kSet; }

}  // namespace kiln::cpu::gemm::detail
