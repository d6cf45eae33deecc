// GEMM micro-benchmark: GFLOP/s per ISA on square and model-shaped products, with B packed once
// outside the timed loop (as weights are at compile time) and A packing inside it.
//   ./build/bench/kiln_gemm_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
// "FmaPeak" runs a register-only FMA loop on the same core, as the achievable-peak yardstick on a
// shared machine; compare its GFLOP/s with the GEMM's from the same run.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>
#include <random>
#include <vector>

#include "cpu/kernels/gemm/gemm.hpp"

namespace {

using namespace kiln::cpu::gemm;

void bm_gemm(benchmark::State& state, Isa isa, int64_t m, int64_t n, int64_t k) {
    if (!isa_supported(isa)) {
        state.SkipWithError("ISA not supported");
        return;
    }
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> dist(-1.f, 1.f);
    std::vector<float> a(m * k), b(k * n), c(m * n);
    for (auto& v : a) v = dist(rng);
    for (auto& v : b) v = dist(rng);
    const PackedB pb = pack_b(b.data(), k, n, n, false, isa);
    Workspace ws(isa);
    for (auto _ : state) {
        gemm(a.data(), k, pb, c.data(), n, m, {.workspace = ws.data()});
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * m * n * k * state.iterations(), benchmark::Counter::kIsRate,
                           benchmark::Counter::kIs1000);
}

// 12 independent FMA chains on zmm registers: the throughput ceiling one core reaches now.
__attribute__((target("avx512f"))) float fma_peak_loop(int64_t iters) {
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    // Distinct starting values and the asm barrier keep the compiler from merging the chains.
    __m512 c0 = _mm512_set1_ps(0.f), c1 = _mm512_set1_ps(1.f), c2 = _mm512_set1_ps(2.f),
           c3 = _mm512_set1_ps(3.f), c4 = _mm512_set1_ps(4.f), c5 = _mm512_set1_ps(5.f),
           c6 = _mm512_set1_ps(6.f), c7 = _mm512_set1_ps(7.f), c8 = _mm512_set1_ps(8.f),
           c9 = _mm512_set1_ps(9.f), c10 = _mm512_set1_ps(10.f), c11 = _mm512_set1_ps(11.f);
    for (int64_t i = 0; i < iters; ++i) {
        c0 = _mm512_fmadd_ps(c0, x, y), c1 = _mm512_fmadd_ps(c1, x, y);
        c2 = _mm512_fmadd_ps(c2, x, y), c3 = _mm512_fmadd_ps(c3, x, y);
        c4 = _mm512_fmadd_ps(c4, x, y), c5 = _mm512_fmadd_ps(c5, x, y);
        c6 = _mm512_fmadd_ps(c6, x, y), c7 = _mm512_fmadd_ps(c7, x, y);
        c8 = _mm512_fmadd_ps(c8, x, y), c9 = _mm512_fmadd_ps(c9, x, y);
        c10 = _mm512_fmadd_ps(c10, x, y), c11 = _mm512_fmadd_ps(c11, x, y);
        asm volatile(""
                     : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5), "+v"(c6),
                       "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));
    }
    const __m512 s =
        _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                                    _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7))),
                      _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, s);
    float sum = 0.f;
    for (float v : lanes) sum += v;
    return sum;
}

void bm_fma_peak(benchmark::State& state) {
    if (!isa_supported(Isa::avx512)) {
        state.SkipWithError("no AVX-512");
        return;
    }
    constexpr int64_t kIters = 1 << 22;
    for (auto _ : state) benchmark::DoNotOptimize(fma_peak_loop(kIters));
    state.counters["GFLOP/s"] =
        benchmark::Counter(12.0 * 32.0 * kIters * state.iterations(), benchmark::Counter::kIsRate,
                           benchmark::Counter::kIs1000);
}

void register_all() {
    benchmark::RegisterBenchmark("fma_peak/avx512", bm_fma_peak)->Unit(benchmark::kMillisecond);
    struct Shape {
        const char* name;
        int64_t m, n, k;
    };
    const Shape shapes[] = {
        {"1024x1024x1024", 1024, 1024, 1024},
        {"128x768x768", 128, 768, 768},    // BERT-base projection, sequence 128
        {"128x3072x768", 128, 3072, 768},  // BERT-base FFN up
        {"1x4096x4096", 1, 4096, 4096},    // GEMV-like decode step
        {"3136x64x576", 3136, 64, 576},    // ResNet-50 3x3 conv as im2col GEMM
        {"3136x256x64", 3136, 256, 64},    // ResNet-50 1x1 conv
    };
    for (Isa isa : {Isa::avx512_bf16, Isa::avx512, Isa::avx2, Isa::scalar}) {
        for (const auto& s : shapes) {
            if (isa == Isa::scalar && s.m * s.n * s.k > (int64_t{1} << 28)) continue;
            auto* b = benchmark::RegisterBenchmark(
                (std::string("gemm/") + isa_name(isa) + "/" + s.name).c_str(),
                [isa, s](benchmark::State& st) { bm_gemm(st, isa, s.m, s.n, s.k); });
            b->Unit(benchmark::kMillisecond);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
