// The CPU kernel of FullyConnectedCompressed against the op's reference kernel, on random inputs
// of odd sizes, for every weight mode, with and without bias, for each ISA this CPU runs. The
// kernel quantizes activations to int8 per block of 32, so it is held to the error bound that
// quantization gives; the ISA variants compute the same sums and must agree closely.
#include <gtest/gtest.h>

#include <cmath>

#include "compressed_weights_helpers.hpp"
#include "core/op_def.hpp"
#include "cpu/kernels/lowbit/fc_compressed_kernel.hpp"
#include "cpu/thread_pool.hpp"
#include "ops/nn/compressed_weights.hpp"

using namespace kiln;
using test_data::LowBitMode;
using test_data::random_f32;
using test_data::random_lowbit;

namespace {

struct Case {
    LowBitMode mode;
    int64_t n, k, group;  // group 0: one scale per row
};

std::shared_ptr<Node> fc_node(const Case& c, int64_t rows, bool bias, uint32_t seed) {
    const bool four = c.mode == LowBitMode::int4_sym || c.mode == LowBitMode::int4_asym;
    const bool asym = c.mode == LowBitMode::int8_asym || c.mode == LowBitMode::int4_asym;
    const ElementType t = four ? (asym ? ElementType::u4 : ElementType::i4)
                               : (asym ? ElementType::u8 : ElementType::i8);
    const Shape ws = c.group ? Shape{c.n, c.k / c.group, c.group} : Shape{c.n, c.k};
    const Shape ss = c.group ? Shape{c.n, c.k / c.group, 1} : Shape{c.n, 1};
    auto x = make_parameter(ElementType::f32, Shape{rows, c.k}, "x");
    OutputVector ins{x->output(0), make_constant(random_lowbit(t, ws, seed))->output(0),
                     make_constant(bias ? random_f32({c.n}, seed + 1)
                                        : Tensor(ElementType::f32, Shape{0}))
                         ->output(0),
                     make_constant(random_f32(ss, seed + 2, 0.005f, 0.02f))->output(0)};
    if (asym) ins.push_back(make_constant(random_lowbit(t, ss, seed + 3))->output(0));
    return make_node("FullyConnectedCompressed", ins);
}

// |y - ref| <= sum_k |W[n,k]| * (half an activation quantization step) + float rounding.
Tensor error_bound(const Node& node, const Tensor& x) {
    const Tensor& w = node.input_constant(1) ? *node.input_constant(1) : Tensor();
    const Tensor& s = *node.input_constant(3);
    const Tensor* zp = node.input_count() > 4 ? node.input_constant(4) : nullptr;
    const nn::LowBitLayout l = nn::lowbit_layout(w.shape(), s.shape());
    const int64_t rows = x.size() / l.k;
    Tensor bound(ElementType::f32, Shape{rows, l.n});
    std::vector<float> wrow(static_cast<size_t>(l.k)), step(static_cast<size_t>(l.k));
    for (int64_t r = 0; r < rows; ++r) {
        const float* xr = x.data<float>() + r * l.k;
        for (int64_t g = 0; g < l.groups; ++g)
            for (int64_t b = 0; b * 32 < l.group_size; ++b) {
                const int64_t lo = g * l.group_size + b * 32,
                              hi = std::min(lo + 32, (g + 1) * l.group_size);
                float amax = 0.f;
                for (int64_t i = lo; i < hi; ++i) amax = std::max(amax, std::fabs(xr[i]));
                for (int64_t i = lo; i < hi; ++i) step[i] = amax / 127.f * 0.5f;
            }
        for (int64_t j = 0; j < l.n; ++j) {
            nn::dequantize_lowbit_row(w, s, zp, l, j, wrow.data());
            double e = 0, mag = 0;
            for (int64_t i = 0; i < l.k; ++i) {
                e += std::fabs(wrow[i]) * step[i];
                mag += std::fabs(wrow[i] * xr[i]);
            }
            bound.data<float>()[r * l.n + j] = static_cast<float>(e * 1.001 + mag * 1e-5 + 1e-6);
        }
    }
    return bound;
}

Tensor run_kernel(const Node& node, const Tensor& x, cpu::lowbit::Isa isa, cpu::ThreadPool& pool) {
    cpu::KernelContext kc;
    KernelFn fn = cpu::make_fc_compressed_kernel(node, kc, isa);
    EXPECT_TRUE(fn);
    TensorVector in{x, Tensor(), *node.input_constant(2), *node.input_constant(3)};
    if (node.input_count() > 4) in.push_back(*node.input_constant(4));
    TensorVector out;
    ExecContext ctx;
    ctx.threads = &pool;
    fn(in, out, ctx);
    return out.at(0);
}

TEST(CpuLowBitKernels, MatchReferenceOnOddSizes) {
    const Case cases[] = {
        {LowBitMode::int8_sym, 37, 70, 0},    {LowBitMode::int8_asym, 45, 133, 0},
        {LowBitMode::int8_sym, 17, 96, 32},   {LowBitMode::int4_sym, 37, 72, 24},
        {LowBitMode::int4_asym, 51, 96, 32},  {LowBitMode::int4_sym, 33, 256, 128},
        {LowBitMode::int4_asym, 19, 40, 40},  {LowBitMode::int4_sym, 70, 48, 16},
    };
    cpu::ThreadPool pool(2);
    uint32_t seed = 100;
    for (const Case& c : cases)
        for (int64_t rows : {1, 2, 3, 7, 33})
            for (bool bias : {false, true}) {
                SCOPED_TRACE(std::string(test_data::mode_name(c.mode)) + " n=" +
                             std::to_string(c.n) + " k=" + std::to_string(c.k) +
                             " group=" + std::to_string(c.group) + " rows=" +
                             std::to_string(rows) + (bias ? " bias" : ""));
                auto node = fc_node(c, rows, bias, seed += 10);
                const Tensor x = random_f32({rows, c.k}, seed + 5);
                TensorVector ref_out;
                ExecContext ref_ctx;
                TensorVector ref_in{x};
                for (size_t i = 1; i < node->input_count(); ++i)
                    ref_in.push_back(*node->input_constant(i));
                node->def().eval(*node, ref_in, ref_out, ref_ctx);
                const Tensor& ref = ref_out[0];
                const Tensor bound = error_bound(*node, x);
                const Tensor scalar = run_kernel(*node, x, cpu::lowbit::Isa::scalar, pool);
                ASSERT_EQ(scalar.shape(), ref.shape());
                for (int64_t i = 0; i < ref.size(); ++i)
                    ASSERT_NEAR(scalar.data<float>()[i], ref.data<float>()[i],
                                bound.data<float>()[i])
                        << "scalar, element " << i;
                for (auto isa : {cpu::lowbit::Isa::avx2, cpu::lowbit::Isa::avx512_vnni}) {
                    if (!cpu::lowbit::isa_supported(isa)) continue;
                    const Tensor fast = run_kernel(*node, x, isa, pool);
                    ASSERT_EQ(fast.shape(), ref.shape());
                    for (int64_t i = 0; i < ref.size(); ++i) {
                        const float s = scalar.data<float>()[i];
                        ASSERT_NEAR(fast.data<float>()[i], s, 1e-5f * (1.f + std::fabs(s)))
                            << cpu::lowbit::isa_name(isa) << ", element " << i;
                    }
                }
            }
}

TEST(CpuLowBitKernels, WrongInputWidthIsAnError) {
    auto node = fc_node({LowBitMode::int4_sym, 20, 64, 32}, 2, true, 7);
    cpu::ThreadPool pool(1);
    cpu::KernelContext kc;
    KernelFn fn = cpu::make_fc_compressed_kernel(*node, kc);
    ASSERT_TRUE(fn);
    TensorVector in{random_f32({2, 63}, 1), Tensor(), *node->input_constant(2),
                    *node->input_constant(3)};
    TensorVector out;
    ExecContext ctx;
    ctx.threads = &pool;
    EXPECT_THROW(fn(in, out, ctx), Error);
}

}  // namespace
