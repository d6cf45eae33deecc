// Portable micro-kernel (4x8 tile) for CPUs without AVX2+FMA; built with the generic flags, so
// the compiler may still vectorize it with the baseline SSE2.
#include "cpu/kernels/gemm/gemm_kernels.hpp"

namespace kiln::cpu::gemm::detail {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 8;

// Direct reads A in place (row r, step p at a[r * lda + p]) instead of from a packed panel.
template <int Rows, bool Direct>
void kernel(int64_t k, const float* a, int64_t lda, const float* b, float* c, int64_t ldc,
            bool accumulate) {
    const int64_t a_row = Direct ? lda : 1, a_step = Direct ? 1 : kMr;
    float acc[Rows][kNr] = {};
    for (int64_t p = 0; p < k; ++p) {
        for (int r = 0; r < Rows; ++r) {
            const float av = a[r * a_row];
            for (int j = 0; j < kNr; ++j) acc[r][j] += av * b[j];
        }
        a += a_step;
        b += kNr;
    }
    for (int r = 0; r < Rows; ++r) {
        float* row = c + r * ldc;
        for (int j = 0; j < kNr; ++j) row[j] = accumulate ? row[j] + acc[r][j] : acc[r][j];
    }
}

constexpr KernelSet kSet = {
    .mr = kMr,
    .nr = kNr,
    .mc = 64,
    .kc = 512,
    .nc = 2048,
    .rows = {nullptr, kernel<1, false>, kernel<2, false>, kernel<3, false>, kernel<4, false>},
    .direct = {nullptr, kernel<1, true>, kernel<2, true>, kernel<3, true>, kernel<4, true>}};

}  // namespace

const KernelSet& scalar_kernels() { return kSet; }

}  // namespace kiln::cpu::gemm::detail
