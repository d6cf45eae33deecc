#pragma once
// A GEMM against packed B split over the thread pool: by row tiles when there are enough rows,
// otherwise by column panels (the few-rows, decode-like case, and B too large to stay cached).
#include <functional>

#include "cpu/kernels/gemm/gemm.hpp"
#include "cpu/thread_pool.hpp"

namespace kiln::cpu {

/// C[rows, b.n()] = op(A) * B, with op(A) = A ([rows, K], leading dimension lda) or, when
/// trans_a, A stored as [K, rows].
void parallel_gemm(ThreadPool& pool, const float* a, int64_t lda, bool trans_a,
                   const gemm::PackedB& b, float* c, int64_t ldc, int64_t rows);

/// Epilogue of a split GEMM: called once for every finished block C[row_begin:row_end,
/// col_begin:col_end], on the thread that computed it while the block is still in cache (bias,
/// activation). The blocks tile C exactly.
using GemmBlockFn =
    std::function<void(int64_t row_begin, int64_t row_end, int64_t col_begin, int64_t col_end)>;

/// The same product, with `done` run on each finished block.
void parallel_gemm(ThreadPool& pool, const float* a, int64_t lda, bool trans_a,
                   const gemm::PackedB& b, float* c, int64_t ldc, int64_t rows,
                   const GemmBlockFn& done);

}  // namespace kiln::cpu
