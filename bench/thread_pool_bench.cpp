// The cost of one parallel_for: waking the workers, splitting, and waiting for the last chunk.
// Transformer and CNN graphs issue hundreds per inference, so this overhead is paid per op.
//   build/bench/kiln_thread_pool_bench [--benchmark_filter=...]
// KILN_POOL_SPIN_US sets how long idle workers spin before sleeping (0: sleep at once).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>

#include "cpu/thread_pool.hpp"

namespace {

using kiln::cpu::ThreadPool;

void busy_work(int64_t iterations) {
    volatile int64_t sink = 0;
    for (int64_t i = 0; i < iterations; ++i) sink = sink + i;
}

// Back-to-back calls with almost no work per chunk: the pure synchronization cost.
void BM_ParallelForEmpty(benchmark::State& state) {
    ThreadPool pool(static_cast<int>(state.range(0)));
    std::atomic<int64_t> sum{0};
    for (auto _ : state)
        pool.parallel_for(0, 64, ThreadPool::kInlineCost, [&](int64_t lo, int64_t hi) {
            sum.fetch_add(hi - lo, std::memory_order_relaxed);
        });
    benchmark::DoNotOptimize(sum.load());
}
BENCHMARK(BM_ParallelForEmpty)->Arg(2)->Arg(4)->UseRealTime();

// Serial work between calls (a reference op between two parallel kernels): the workers have
// gone idle when the next call comes, as in a real graph.
void BM_ParallelForAfterSerialGap(benchmark::State& state) {
    ThreadPool pool(static_cast<int>(state.range(0)));
    const int64_t gap = state.range(1);
    for (auto _ : state) {
        busy_work(gap);
        pool.parallel_for(0, 64, ThreadPool::kInlineCost,
                          [&](int64_t lo, int64_t hi) { busy_work((hi - lo) * 100); });
    }
}
BENCHMARK(BM_ParallelForAfterSerialGap)
    ->Args({2, 0})
    ->Args({2, 2000})
    ->Args({2, 20000})
    ->Args({2, 200000})
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
