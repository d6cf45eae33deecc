#pragma once
// A GEMM against packed B split over the thread pool: by row tiles when there are enough rows,
// otherwise by column panels (the few-rows, decode-like case).
#include "cpu/kernels/gemm/gemm.hpp"
#include "cpu/thread_pool.hpp"

namespace kiln::cpu {

/// C[rows, b.n()] = op(A) * B, with op(A) = A ([rows, K], leading dimension lda) or, when
/// trans_a, A stored as [K, rows].
void parallel_gemm(ThreadPool& pool, const float* a, int64_t lda, bool trans_a,
                   const gemm::PackedB& b, float* c, int64_t ldc, int64_t rows);

}  // namespace kiln::cpu
