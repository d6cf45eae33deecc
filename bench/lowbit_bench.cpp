// Compressed-weight linear layers (FullyConnectedCompressed's CPU kernel) on GPT-2-124M shapes,
// 2 threads: decode (1 row) reports GB/s of packed weight bytes streamed and the fraction of the
// machine's read bandwidth, measured in the same binary by a 2-thread streaming sum; prefill
// (128 rows) reports GOP/s. The f32 FullyConnected kernel on the same shapes is the baseline.
//   ./build/bench/kiln_lowbit_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "cpu/kernels/lowbit/fc_compressed_kernel.hpp"
#include "cpu/kernels/lowbit/lowbit_layout.hpp"
#include "cpu/kernels/matmul_f32.hpp"
#include "cpu/thread_pool.hpp"
#include "ops/op_list.hpp"

namespace {

using namespace kiln;

// KILN_BENCH_THREADS=1 makes the CPU column the kernel's own time on a loaded machine.
const int kThreads = [] {
    const char* v = std::getenv("KILN_BENCH_THREADS");
    return v ? std::max(1, std::atoi(v)) : 2;
}();

cpu::ThreadPool& pool() {
    static cpu::ThreadPool p(kThreads);
    return p;
}

// ---- read bandwidth: each thread sums its half of a 512 MiB buffer with AVX-512 loads.
__attribute__((target("avx512f"))) float sum_range(const float* p, int64_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i + 64 <= n; i += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(p + i + 1024), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(p + i + 1040), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(p + i + 1056), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(p + i + 1072), _MM_HINT_T0);
        a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
        a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

struct BigBuffer {
    static constexpr int64_t kFloats = int64_t{128} << 20;  // 512 MiB
    std::unique_ptr<float[], void (*)(void*)> data{
        static_cast<float*>(std::aligned_alloc(64, kFloats * 4)), std::free};
    BigBuffer() { std::fill(data.get(), data.get() + kFloats, 1.f); }
};

BigBuffer& big() {
    static BigBuffer b;
    return b;
}

double read_once() {
    float* p = big().data.get();
    std::vector<float> sums(kThreads);
    const auto t0 = std::chrono::steady_clock::now();
    pool().parallel_for(0, kThreads, int64_t{1} << 40, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t part = BigBuffer::kFloats / kThreads;
            sums[t] = sum_range(p + t * part, part);
        }
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(sums.data());
    return BigBuffer::kFloats * 4.0 / s / 1e9;
}

double g_bandwidth = 0;  // GB/s, median of the runs before the benchmarks

void bm_read_bandwidth(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(read_once());
    state.counters["GB/s"] =
        benchmark::Counter(BigBuffer::kFloats * 4.0 * state.iterations(),
                           benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}

// ---- vpdpbusd peak on one core: 12 independent chains in registers, the yardstick for prefill.
__attribute__((target("avx512f,avx512vnni"))) int vnni_peak_loop(int64_t iters) {
    const __m512i x = _mm512_set1_epi32(0x01010101), y = _mm512_set1_epi32(0x01020304);
    __m512i c[12];
    for (int i = 0; i < 12; ++i) c[i] = _mm512_set1_epi32(i);
    for (int64_t it = 0; it < iters; ++it) {
        for (int i = 0; i < 12; ++i) c[i] = _mm512_dpbusd_epi32(c[i], x, y);
        asm volatile("" : "+v"(c[0]), "+v"(c[1]), "+v"(c[2]), "+v"(c[3]), "+v"(c[4]), "+v"(c[5]),
                     "+v"(c[6]), "+v"(c[7]), "+v"(c[8]), "+v"(c[9]), "+v"(c[10]), "+v"(c[11]));
    }
    __m512i s = c[0];
    for (int i = 1; i < 12; ++i) s = _mm512_add_epi32(s, c[i]);
    return _mm512_reduce_add_epi32(s);
}

void bm_vnni_peak(benchmark::State& state) {
    constexpr int64_t kIters = 100000;
    for (auto _ : state) benchmark::DoNotOptimize(vnni_peak_loop(kIters));
    // 12 instructions x 64 u8*s8 products x 2 operations.
    state.counters["GOP/s"] = benchmark::Counter(12.0 * 64 * 2 * kIters * state.iterations(),
                                                 benchmark::Counter::kIsRate,
                                                 benchmark::Counter::kIs1000);
}

// ---- the kernels
enum class Mode { int4_sym, int4_asym, int8_sym, int8_asym, f32 };

Tensor random_bytes(ElementType t, Shape s, uint32_t seed) {
    Tensor x(t, std::move(s));
    std::mt19937 g(seed);
    auto* b = static_cast<uint8_t*>(x.raw_data());
    for (size_t i = 0; i < x.byte_size(); ++i) b[i] = static_cast<uint8_t>(g());
    return x;
}

Tensor random_f32(Shape s, uint32_t seed, float lo, float hi) {
    Tensor x(ElementType::f32, std::move(s));
    std::mt19937 g(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = d(g);
    return x;
}

struct Layer {
    KernelFn fn;
    TensorVector inputs;
    double bytes = 0;  // weight bytes one product reads
};

Layer make_layer(Mode mode, int64_t rows, int64_t k, int64_t n) {
    op_registry();
    auto x = make_parameter(ElementType::f32, Shape{rows, k}, "x");
    Layer l;
    std::shared_ptr<Node> node;
    const Tensor bias = random_f32({n}, 3, -1, 1);
    if (mode == Mode::f32) {
        node = make_node("FullyConnected",
                         {x->output(0), make_constant(random_f32({n, k}, 1, -1, 1))->output(0),
                          make_constant(bias)->output(0)},
                         {{"transpose_b", true}});
        l.bytes = 4.0 * n * k;
        cpu::KernelContext kc;
        l.fn = cpu::make_matmul_f32_kernel(*node, kc);
        l.inputs = {Tensor(), Tensor(), bias};
    } else {
        const bool four = mode == Mode::int4_sym || mode == Mode::int4_asym;
        const bool asym = mode == Mode::int4_asym || mode == Mode::int8_asym;
        const ElementType t = four ? (asym ? ElementType::u4 : ElementType::i4)
                                   : (asym ? ElementType::u8 : ElementType::i8);
        const int64_t g = four ? 128 : k;
        const Shape ws = four ? Shape{n, k / g, g} : Shape{n, k};
        const Shape ss = four ? Shape{n, k / g, 1} : Shape{n, 1};
        OutputVector ins{x->output(0), make_constant(random_bytes(t, ws, 1))->output(0),
                         make_constant(bias)->output(0),
                         make_constant(random_f32(ss, 2, 0.005f, 0.02f))->output(0)};
        if (asym) ins.push_back(make_constant(random_bytes(t, ss, 4))->output(0));
        node = make_node("FullyConnectedCompressed", ins);
        const Tensor* zp = asym ? node->input_constant(4) : nullptr;
        const cpu::lowbit::PackedWeights packed(*node->input_constant(1), *node->input_constant(3),
                                                zp);
        l.bytes = static_cast<double>(packed.panels() * packed.groups() * packed.group_stride());
        cpu::KernelContext kc;
        l.fn = cpu::make_fc_compressed_kernel(*node, kc);
        l.inputs = {Tensor(), Tensor(), bias, *node->input_constant(3)};
        if (asym) l.inputs.push_back(*zp);
    }
    l.inputs[0] = random_f32({rows, k}, 5, -1, 1);
    return l;
}

// Decode streams every weight from memory once per token, and one layer's weights fit the
// 32 MiB L3: the benchmark rotates over copies totalling at least 96 MB, as a model would.
void bm_linear(benchmark::State& state, Mode mode, int64_t rows, int64_t k, int64_t n) {
    std::vector<Layer> copies{make_layer(mode, rows, k, n)};
    const double bytes = copies[0].bytes;
    if (rows == 1)
        while (copies.size() * bytes < 96e6) copies.push_back(make_layer(mode, rows, k, n));
    ExecContext ctx;
    ctx.threads = &pool();
    TensorVector out;
    size_t next = 0;
    for (auto _ : state) {
        Layer& l = copies[next];
        next = (next + 1) % copies.size();
        l.fn(l.inputs, out, ctx);
        benchmark::DoNotOptimize(out[0].raw_data());
    }
    const Layer& l = copies[0];
    const double calls = static_cast<double>(state.iterations());
    state.counters["GB/s"] = benchmark::Counter(l.bytes * calls, benchmark::Counter::kIsRate,
                                                benchmark::Counter::kIs1000);
    state.counters["GOP/s"] = benchmark::Counter(2.0 * rows * k * n * calls,
                                                 benchmark::Counter::kIsRate,
                                                 benchmark::Counter::kIs1000);
    if (g_bandwidth > 0)
        state.counters["bw_frac"] = benchmark::Counter(
            l.bytes * calls / 1e9 / g_bandwidth, benchmark::Counter::kIsRate);
}

const char* mode_name(Mode m) {
    switch (m) {
        case Mode::int4_sym: return "int4_sym_g128";
        case Mode::int4_asym: return "int4_asym_g128";
        case Mode::int8_sym: return "int8_sym";
        case Mode::int8_asym: return "int8_asym";
        case Mode::f32: return "f32";
    }
    return "?";
}

void register_all() {
    benchmark::RegisterBenchmark("ReadBandwidth/2threads", bm_read_bandwidth)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark("VnniPeak/1thread", bm_vnni_peak)->Unit(benchmark::kMicrosecond);
    struct Shape2 {
        const char* name;
        int64_t k, n;
    };
    const Shape2 shapes[] = {{"qkv_768x2304", 768, 2304},
                             {"attn_proj_768x768", 768, 768},
                             {"fc_768x3072", 768, 3072},
                             {"fc_proj_3072x768", 3072, 768},
                             {"lm_head_768x50257", 768, 50257}};
    for (int64_t rows : {1, 128})
        for (const auto& s : shapes)
            for (Mode m : {Mode::int4_sym, Mode::int4_asym, Mode::int8_sym, Mode::int8_asym,
                           Mode::f32}) {
                // GPT-2 recipe: int4 blocks, int8 head; f32 head only as the decode baseline.
                if (s.n == 50257 && (m == Mode::int4_sym || m == Mode::int4_asym)) continue;
                if (s.n == 50257 && m == Mode::f32 && rows > 1) continue;
                const std::string name = std::string(rows == 1 ? "decode/" : "prefill128/") +
                                         s.name + "/" + mode_name(m);
                benchmark::RegisterBenchmark(name.c_str(), bm_linear, m, rows, s.k, s.n)
                    ->Unit(benchmark::kMicrosecond)
                    ->UseRealTime();
            }
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    std::vector<double> runs;
    read_once();  // touch the pages
    for (int i = 0; i < 5; ++i) runs.push_back(read_once());
    std::sort(runs.begin(), runs.end());
    g_bandwidth = runs[runs.size() / 2];
    std::printf("read bandwidth, %d threads: median %.1f GB/s (min %.1f, max %.1f); bw_frac below "
                "is GB/s over this median\n",
                kThreads, g_bandwidth, runs.front(), runs.back());
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
