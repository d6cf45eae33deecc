// Compressed-weight linear layers (FullyConnectedCompressed's CPU kernel) on GPT-2-124M shapes,
// 2 threads: decode (1 row) reports GB/s of packed weight bytes streamed and the fraction of the
// machine's read bandwidth, measured in the same binary by a 2-thread streaming sum; prefill
// (128 rows) reports GOP/s. The f32 FullyConnected kernel on the same shapes is the baseline;
// decode_f32_dequant is the alternative decode design (dequantize to f32, FMA) on the same
// packed weights; VnniPeak is the vpdpbusd ceiling of one core at the moment.
//   ./build/bench/kiln_lowbit_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
// KILN_BENCH_THREADS (default 2) and KILN_BENCH_CACHED=1 (weights cache-resident) below.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "core/tensor_allocator.hpp"
#include "cpu/kernels/lowbit/fc_compressed_kernel.hpp"
#include "cpu/kernels/lowbit/lowbit_layout.hpp"
#include "cpu/kernels/matmul_f32.hpp"
#include "cpu/thread_pool.hpp"
#include "ops/nn/compressed_weights.hpp"
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

// On huge pages, as the device keeps packed weights (allocate_streamed_memory).
struct BigBuffer {
    static constexpr int64_t kFloats = int64_t{128} << 20;  // 512 MiB
    struct Free {
        void operator()(float* p) const { free_streamed_memory(p, kFloats * 4); }
    };
    std::unique_ptr<float[], Free> data{static_cast<float*>(allocate_streamed_memory(kFloats * 4))};
    // Every page different: pages of equal contents may be merged by the host (one physical
    // page read over and over reports 60 GB/s here).
    BigBuffer() {
        for (int64_t i = 0; i < kFloats; ++i) data[i] = static_cast<float>(i & 0xFFFFF);
    }
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

// KILN_BENCH_CACHED=1: no rotation, the weights stay in cache; the time is then the kernel's
// compute cost (the question when it must keep up with memory).
double rotation_bytes() { return std::getenv("KILN_BENCH_CACHED") ? 0.0 : 96e6; }

// Median of three streaming sums.
double local_bandwidth() {
    double r[3] = {read_once(), read_once(), read_once()};
    std::sort(r, r + 3);
    return r[1];
}

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
        while (copies.size() * bytes < rotation_bytes()) copies.push_back(make_layer(mode, rows, k, n));
    // The machine is shared: the bandwidth it gives right now, next to the figure it is compared to.
    const double bw = rows == 1 ? local_bandwidth() : g_bandwidth;
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
    if (bw > 0) {
        state.counters["bw_frac"] =
            benchmark::Counter(l.bytes * calls / 1e9 / bw, benchmark::Counter::kIsRate);
        state.counters["bw_GB/s"] = bw;
    }
}

// ---- the alternative decode path, for comparison: dequantize the same packed weights to f32
// and multiply with FMA (no activation quantization). Lanes of acc[q] hold channel 4q + l/4 at
// k = l%4; the 4 k-lanes are summed at the end. Needs groups without padding (GPT-2 shapes).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))) void gemv_f32_dequant(
    const cpu::lowbit::PackedWeights& w, const float* x, const float* xsum, int64_t p0,
    int64_t p1, float* y) {
    const int64_t gs = w.group_size();
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512i spread[4];
    for (int q = 0; q < 4; ++q) {
        alignas(64) int32_t idx[16];
        for (int l = 0; l < 16; ++l) idx[l] = 4 * q + l / 4;
        spread[q] = _mm512_load_si512(idx);
    }
    for (int64_t p = p0; p < p1; ++p) {
        const uint8_t* wp = w.panel(p);
        __m512 out[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                         _mm512_setzero_ps()};
        for (int64_t g = 0; g < w.groups(); ++g) {
            const float* xg = x + g * gs;
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                             _mm512_setzero_ps()};
            if (w.four_bit()) {
                for (int64_t o = 0; o < gs / 8; ++o, wp += 64) {
                    _mm_prefetch(reinterpret_cast<const char*>(wp + 4096), _MM_HINT_T0);
                    const __m512i v = _mm512_load_si512(wp);
                    const __m512i lo = _mm512_and_si512(v, low);
                    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
                    const __m512 alo = _mm512_broadcast_f32x4(_mm_loadu_ps(xg + 8 * o));
                    const __m512 ahi = _mm512_broadcast_f32x4(_mm_loadu_ps(xg + 8 * o + 4));
#define KILN_Q(q)                                                                              \
    acc[q] = _mm512_fmadd_ps(                                                                  \
        _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(lo, q))), alo,      \
        acc[q]);                                                                               \
    acc[q] = _mm512_fmadd_ps(                                                                  \
        _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(hi, q))), ahi, acc[q]);
                    KILN_Q(0) KILN_Q(1) KILN_Q(2) KILN_Q(3)
#undef KILN_Q
                }
            } else {
                for (int64_t o = 0; o < gs / 4; ++o, wp += 64) {
                    _mm_prefetch(reinterpret_cast<const char*>(wp + 4096), _MM_HINT_T0);
                    const __m512 a = _mm512_broadcast_f32x4(_mm_loadu_ps(xg + 4 * o));
                    for (int q = 0; q < 4; ++q)
                        acc[q] = _mm512_fmadd_ps(
                            _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(
                                _mm_load_si128(reinterpret_cast<const __m128i*>(wp) + q))),
                            a, acc[q]);
                }
            }
            const __m512 sc = _mm512_load_ps(reinterpret_cast<const float*>(wp));
            const __m512 z = w.has_zero_point()
                                 ? _mm512_load_ps(reinterpret_cast<const float*>(wp) + 16)
                                 : _mm512_set1_ps(w.zero_offset());
            wp += w.group_stride() - w.group_weight_bytes();
            // The zero point's share: z * sum(x) once per channel, put on the k = 0 lane.
            const __m512 zx = _mm512_mul_ps(z, _mm512_set1_ps(xsum[g]));
            for (int q = 0; q < 4; ++q) {
                const __m512 s4 = _mm512_permutexvar_ps(spread[q], sc);
                const __m512 zx4 = _mm512_maskz_permutexvar_ps(0x1111, spread[q], zx);
                out[q] = _mm512_fmadd_ps(s4, _mm512_sub_ps(acc[q], zx4), out[q]);
            }
        }
        alignas(64) float t[64];
        for (int q = 0; q < 4; ++q) _mm512_store_ps(t + 16 * q, out[q]);
        for (int c = 0; c < 16 && p * 16 + c < w.n(); ++c)
            y[p * 16 + c] = t[4 * c] + t[4 * c + 1] + t[4 * c + 2] + t[4 * c + 3];
    }
}

void bm_decode_f32_dequant(benchmark::State& state, Mode mode, int64_t k, int64_t n) {
    std::vector<Layer> keep;
    std::vector<std::unique_ptr<cpu::lowbit::PackedWeights>> copies;
    const bool four = mode == Mode::int4_sym;
    const ElementType t = four ? ElementType::i4 : ElementType::i8;
    const int64_t g = four ? 128 : k;
    const Tensor wt = random_bytes(t, four ? Shape{n, k / g, g} : Shape{n, k}, 1);
    const Tensor st = random_f32(four ? Shape{n, k / g, 1} : Shape{n, 1}, 2, 0.005f, 0.02f);
    do {
        copies.push_back(std::make_unique<cpu::lowbit::PackedWeights>(wt, st, nullptr));
    } while (copies.size() * copies[0]->panels() * copies[0]->groups() *
                 copies[0]->group_stride() <
             rotation_bytes());
    const Tensor x = random_f32({k}, 5, -1, 1);
    std::vector<float> xsum(static_cast<size_t>(k / g)), y(static_cast<size_t>(n));
    for (int64_t i = 0; i < k; ++i) xsum[i / g] += x.data<float>()[i];
    {  // the result must be the product with the dequantized weights
        gemv_f32_dequant(*copies[0], x.data<float>(), xsum.data(), 0, copies[0]->panels(),
                         y.data());
        const nn::LowBitLayout l = nn::lowbit_layout(wt.shape(), st.shape());
        std::vector<float> row(static_cast<size_t>(k));
        for (int64_t j = 0; j < n; j += 97) {
            nn::dequantize_lowbit_row(wt, st, nullptr, l, j, row.data());
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < k; ++i) {
                ref += double(row[i]) * x.data<float>()[i];
                mag += std::fabs(double(row[i]) * x.data<float>()[i]);
            }
            if (std::fabs(y[j] - ref) > 1e-4 * mag + 1e-5) {
                state.SkipWithError("f32 dequantizing GEMV gives wrong results");
                return;
            }
        }
    }
    size_t next = 0;
    for (auto _ : state) {
        const auto& w = *copies[next];
        next = (next + 1) % copies.size();
        pool().parallel_for(0, w.panels(), w.padded_k() * 16 / 8, [&](int64_t lo, int64_t hi) {
            gemv_f32_dequant(w, x.data<float>(), xsum.data(), lo, hi, y.data());
        });
        benchmark::DoNotOptimize(y.data());
    }
    const double bytes = static_cast<double>(copies[0]->panels() * copies[0]->groups() *
                                             copies[0]->group_stride());
    state.counters["GB/s"] = benchmark::Counter(bytes * state.iterations(),
                                                benchmark::Counter::kIsRate,
                                                benchmark::Counter::kIs1000);
    if (g_bandwidth > 0)
        state.counters["bw_frac"] = benchmark::Counter(
            bytes * state.iterations() / 1e9 / g_bandwidth, benchmark::Counter::kIsRate);
}

// Every linear layer of GPT-2-124M once, in order (12 blocks of qkv, attention output, MLP up and
// down, then the 50257-row LM head): the weight streaming of one decode token (rows = 1) or of a
// prompt (rows = 128), without attention, norms and activations.
void bm_gpt2_linears(benchmark::State& state, Mode blocks, Mode head, int64_t rows) {
    std::vector<Layer> layers;
    for (int b = 0; b < 12; ++b) {
        layers.push_back(make_layer(blocks, rows, 768, 2304));
        layers.push_back(make_layer(blocks, rows, 768, 768));
        layers.push_back(make_layer(blocks, rows, 768, 3072));
        layers.push_back(make_layer(blocks, rows, 3072, 768));
    }
    layers.push_back(make_layer(head, rows, 768, 50257));
    double bytes = 0;
    for (const auto& l : layers) bytes += l.bytes;
    ExecContext ctx;
    ctx.threads = &pool();
    TensorVector out;
    for (auto _ : state)
        for (auto& l : layers) {
            l.fn(l.inputs, out, ctx);
            benchmark::DoNotOptimize(out[0].raw_data());
        }
    const double calls = static_cast<double>(state.iterations());
    state.counters["tokens/s"] = benchmark::Counter(rows * calls, benchmark::Counter::kIsRate);
    state.counters["GB/s"] = benchmark::Counter(bytes * calls, benchmark::Counter::kIsRate,
                                                benchmark::Counter::kIs1000);
    state.counters["MB/token"] = bytes / 1e6;
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
    for (int64_t rows : {1, 128}) {
        const std::string suffix = rows == 1 ? "decode" : "prefill128";
        benchmark::RegisterBenchmark(("gpt2_linears/int4_sym_g128+int8_head/" + suffix).c_str(),
                                     bm_gpt2_linears, Mode::int4_sym, Mode::int8_sym, rows)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
        benchmark::RegisterBenchmark(("gpt2_linears/int8_sym/" + suffix).c_str(), bm_gpt2_linears,
                                     Mode::int8_sym, Mode::int8_sym, rows)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
    }
    for (const auto& s : shapes)
        for (Mode m : {Mode::int4_sym, Mode::int8_sym}) {
            if (s.n == 50257 && m == Mode::int4_sym) continue;
            const std::string name =
                std::string("decode_f32_dequant/") + s.name + "/" + mode_name(m);
            benchmark::RegisterBenchmark(name.c_str(), bm_decode_f32_dequant, m, s.k, s.n)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
        }
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
