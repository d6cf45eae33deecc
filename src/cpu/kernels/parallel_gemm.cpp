#include "cpu/kernels/parallel_gemm.hpp"

#include <algorithm>

namespace kiln::cpu {
namespace {

// Packed B beyond this no longer stays in the last-level cache, so every row chunk would stream it
// from memory again: such products (a language model's vocabulary projection) split by columns,
// which reads B once.
constexpr size_t kCachedB = size_t{16} << 20;

}  // namespace

void parallel_gemm(ThreadPool& pool, const float* a, int64_t lda, bool trans_a,
                   const gemm::PackedB& b, float* c, int64_t ldc, int64_t rows) {
    parallel_gemm(pool, a, lda, trans_a, b, c, ldc, rows, GemmBlockFn());
}

void parallel_gemm(ThreadPool& pool, const float* a, int64_t lda, bool trans_a,
                   const gemm::PackedB& b, float* c, int64_t ldc, int64_t rows,
                   const GemmBlockFn& done) {
    const int64_t k = b.k(), n = b.n();
    if (rows <= 0 || n <= 0) return;
    const int64_t mr = gemm::tile_m(b.isa()), nr = b.nr();
    const int64_t row_tiles = (rows + mr - 1) / mr;
    gemm::GemmOptions base;
    base.trans_a = trans_a;
    const int64_t panels = (n + nr - 1) / nr;
    const bool stream_b = b.size_bytes() > kCachedB && panels >= 4 * pool.concurrency();
    // The busiest thread's share over the average: 11 row tiles on 2 threads give 6/5.5, while
    // BERT's 24 or 96 column panels split evenly.
    const auto spread = [&](int64_t items) {
        const int64_t t = pool.concurrency();
        return static_cast<double>((items + t - 1) / t * t) / static_cast<double>(items);
    };
    const bool rows_unbalanced = spread(row_tiles) > 1.05 * spread(panels);
    if (row_tiles >= 2 * pool.concurrency() && !stream_b && !rows_unbalanced) {
        pool.parallel_for(0, row_tiles, mr * k * n, [&](int64_t lo, int64_t hi) {
            gemm::GemmOptions o = base;
            o.m_begin = lo * mr;
            o.m_end = std::min(rows, hi * mr);
            gemm::gemm(a, lda, b, c, ldc, rows, o);
            if (done) done(o.m_begin, o.m_end, 0, n);
        });
    } else {
        pool.parallel_for(0, panels, rows * k * nr, [&](int64_t lo, int64_t hi) {
            gemm::GemmOptions o = base;
            o.n_begin = lo * nr;
            o.n_end = std::min(n, hi * nr);
            gemm::gemm(a, lda, b, c, ldc, rows, o);
            if (done) done(0, rows, o.n_begin, o.n_end);
        });
    }
}

}  // namespace kiln::cpu
