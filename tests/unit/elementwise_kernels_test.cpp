// The CPU device's f32 elementwise kernels (cpu/kernels/elementwise/) against the reference
// kernels: whole compiled models on the best ISA with 1 and 3 threads, and the row primitives of
// every ISA this CPU runs, on odd sizes, every broadcast case, extreme values, NaN and inf.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "cpu/kernels/elementwise/broadcast_plan.hpp"
#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

// Uniform values in [-lim, lim] with, when `special`, a sprinkling of extremes, NaN and inf.
Tensor random_f32(const Shape& shape, uint32_t seed, float lim = 8.f, bool special = true) {
    Tensor t(ElementType::f32, shape);
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-lim, lim);
    const float extremes[] = {INFINITY, -INFINITY, NAN,   0.f,    -0.f, 1e-30f, -1e-30f,
                              1e30f,    -1e30f,    100.f, -100.f, 15.f, -15.f};
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.size(); ++i) {
        p[i] = dist(gen);
        if (special && gen() % 11 == 0) p[i] = extremes[gen() % std::size(extremes)];
    }
    return t;
}

// atol covers reference kernels that lose accuracy themselves: GELU computes 1 + erf(z) or
// 1 + tanh(z) in double, which cancels to ~1e-16 absolute on the negative tail.
void expect_close(const Tensor& fast, const Tensor& ref, const std::string& what,
                  float atol = 1e-37f) {
    ASSERT_EQ(fast.shape(), ref.shape()) << what;
    for (int64_t i = 0; i < ref.size(); ++i) {
        const float r = ref.data<float>()[i], f = fast.data<float>()[i];
        if (std::isnan(r)) {
            ASSERT_TRUE(std::isnan(f)) << what << " element " << i << " got " << f;
            continue;
        }
        if (std::isinf(r)) {
            ASSERT_EQ(f, r) << what << " element " << i;
            continue;
        }
        ASSERT_NEAR(f, r, 4e-6f * std::fabs(r) + atol) << what << " element " << i;
    }
}

std::shared_ptr<Model> one_node_model(const std::string& type, const std::vector<Shape>& shapes,
                                      Attributes attrs = {}) {
    std::vector<std::shared_ptr<Node>> params;
    OutputVector inputs;
    for (size_t i = 0; i < shapes.size(); ++i) {
        params.push_back(make_parameter(ElementType::f32, shapes[i], "x" + std::to_string(i)));
        inputs.push_back(params.back()->output(0));
    }
    auto y = make_node(type, inputs, std::move(attrs));
    return std::make_shared<Model>(OutputVector{y->output(0)}, params);
}

// Compiles the node on the CPU device and compares every output with the reference kernel.
void check_node(const std::string& type, const TensorVector& inputs, Attributes attrs = {},
                bool expect_fast = true, float atol = 1e-37f) {
    std::vector<Shape> shapes;
    for (const Tensor& t : inputs) shapes.push_back(t.shape());
    auto model = one_node_model(type, shapes, attrs);
    const Tensor ref = evaluate_model(*model, inputs)[0];
    for (const char* threads : {"1", "3"}) {
        auto compiled = std::make_shared<const cpu::CompiledModel>(
            model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
        EXPECT_EQ(compiled->plan().device_kernel_count(), expect_fast ? 1u : 0u) << type;
        cpu::InferRequest req(compiled);
        for (size_t i = 0; i < inputs.size(); ++i) req.set_input(i, inputs[i]);
        req.infer();
        expect_close(req.output(0), ref, type + " threads=" + threads, atol);
    }
}

std::vector<cpu::gemm::Isa> isas() {
    std::vector<cpu::gemm::Isa> out;
    for (auto i : {cpu::gemm::Isa::scalar, cpu::gemm::Isa::avx2, cpu::gemm::Isa::avx512})
        if (cpu::gemm::isa_supported(i)) out.push_back(i);
    return out;
}

struct UnaryCase {
    const char* type;
    Attributes attrs;
    cpu::ew::UnaryOp op;
    cpu::ew::UnaryParams params;
    float atol = 1e-37f;
};

std::vector<UnaryCase> unary_cases() {
    using cpu::ew::UnaryOp;
    return {
        {"Relu", {}, UnaryOp::relu, {}},
        {"Sigmoid", {}, UnaryOp::sigmoid, {}},
        {"Tanh", {}, UnaryOp::tanh, {}},
        {"Erf", {}, UnaryOp::erf, {}},
        {"Exp", {}, UnaryOp::exp, {}},
        {"Sqrt", {}, UnaryOp::sqrt, {}},
        {"Abs", {}, UnaryOp::abs, {}},
        {"Negative", {}, UnaryOp::neg, {}},
        {"Clamp", {{"min", 0.0}, {"max", 6.0}}, UnaryOp::clamp, {0.f, 6.f}},
        {"Clamp", {{"min", -1.5}, {"max", 0.25}}, UnaryOp::clamp, {-1.5f, 0.25f}},
        {"HSwish", {}, UnaryOp::hswish, {}},
        {"HSigmoid", {}, UnaryOp::hsigmoid, {}},
        {"Swish", {}, UnaryOp::swish, {1.f, 0.f}},
        {"Gelu", {{"approximation_mode", std::string("ERF")}}, UnaryOp::gelu_erf, {}, 1e-14f},
        {"Gelu", {{"approximation_mode", std::string("TANH")}}, UnaryOp::gelu_tanh, {}, 1e-14f},
    };
}

}  // namespace

TEST(CpuElementwiseKernels, UnaryMatchReferenceOnOddSizes) {
    for (const auto& c : unary_cases())
        for (const Shape& s : {Shape{1}, Shape{17}, Shape{3, 7, 11}, Shape{2, 33, 1031},
                               Shape{1, 8, 130, 131}, Shape{0, 5}, Shape{}})
            check_node(c.type, {random_f32(s, 3)}, c.attrs, true, c.atol);
}

TEST(CpuElementwiseKernels, UnaryRowPrimitivesOfEveryIsa) {
    for (const auto& c : unary_cases()) {
        const Tensor x = random_f32({4099}, 7, 20.f);
        const Tensor ref = evaluate_model(*one_node_model(c.type, {x.shape()}, c.attrs), {x})[0];
        for (auto isa : isas()) {
            // Odd lengths and offsets exercise every tail.
            for (size_t n :
                 {size_t{1}, size_t{5}, size_t{15}, size_t{16}, size_t{33}, size_t{4099}}) {
                Tensor y(ElementType::f32, {static_cast<int64_t>(n)});
                cpu::ew::ew_kernels(isa).unary(c.op, c.params, x.data<float>(), y.data<float>(), n);
                Tensor r(ElementType::f32, {static_cast<int64_t>(n)});
                std::copy(ref.data<float>(), ref.data<float>() + n, r.data<float>());
                expect_close(y, r, std::string(c.type) + " isa=" + cpu::gemm::isa_name(isa),
                             c.atol);
            }
        }
    }
}

TEST(CpuElementwiseKernels, HardSigmoidWithParameterInputs) {
    check_node("HardSigmoid",
               {random_f32({3, 101}, 1), Tensor::scalar(0.2f), Tensor::scalar(0.5f)});
    check_node("HardSigmoid",
               {random_f32({2, 7, 5}, 2), Tensor::scalar(1.f / 6), Tensor::scalar(0.5f)});
    for (auto isa : isas()) {
        const Tensor x = random_f32({37}, 3);
        const Tensor ref = evaluate_model(*one_node_model("HardSigmoid", {{37}, {}, {}}),
                                          {x, Tensor::scalar(0.2f), Tensor::scalar(0.5f)})[0];
        Tensor y(ElementType::f32, {37});
        cpu::ew::ew_kernels(isa).unary(cpu::ew::UnaryOp::hard_sigmoid, {0.2f, 0.5f},
                                       x.data<float>(), y.data<float>(), 37);
        expect_close(y, ref, std::string("HardSigmoid isa=") + cpu::gemm::isa_name(isa));
    }
}

TEST(CpuElementwiseKernels, SwishWithBetaInput) {
    check_node("Swish", {random_f32({3, 101}, 1), Tensor::scalar(1.7f)});
    check_node("Swish", {random_f32({3, 101}, 1), Tensor::from_vector<float>({-0.3f}, {1})});
}

namespace {

const std::vector<std::pair<Shape, Shape>>& broadcast_cases() {
    static const std::vector<std::pair<Shape, Shape>> cases = {
        {{3, 5, 7}, {3, 5, 7}},        // same shape
        {{2, 3, 17}, {}},              // scalar right
        {{1}, {2, 3, 17}},             // scalar left
        {{2, 5, 7, 9}, {1, 5, 1, 1}},  // per channel
        {{2, 5, 7, 9}, {5, 1, 1}},     // per channel, lower rank
        {{1, 5, 1, 1}, {2, 5, 7, 9}},  // per channel on the left
        {{4, 33}, {33}},               // trailing vector (bias)
        {{3, 1, 5}, {1, 4, 1}},        // outer product
        {{2, 3, 4, 5}, {2, 1, 4, 1}},  // mixed
        {{7, 1}, {1, 9}},
        {{5}, {2, 1, 5}},        // right operand of higher rank
        {{}, {}},                // rank 0
        {{0, 3}, {3}},           // empty
        {{2, 4100}, {2, 4100}},  // long rows split over threads
        {{1, 3, 5000}, {1, 3, 1}},
        {{2, 3, 70001}, {2, 3, 1}},  // few long rows split into pieces
        {{30001, 3}, {30001, 1}},    // short rows, runs split over threads
        {{5, 4001, 3}, {5, 1, 3}},
    };
    return cases;
}

}  // namespace

TEST(CpuElementwiseKernels, BinaryMatchReferenceOnEveryBroadcast) {
    for (const char* type : {"Add", "Subtract", "Multiply", "Divide", "Maximum", "Minimum",
                             "SquaredDifference", "Power"}) {
        uint32_t seed = 1;
        for (const auto& [a, b] : broadcast_cases()) {
            const bool pow = std::string(type) == "Power";
            check_node(type, {random_f32(a, seed, pow ? 2.f : 8.f),
                              random_f32(b, seed + 100, pow ? 3.f : 8.f)});
            ++seed;
        }
    }
}

TEST(CpuElementwiseKernels, PowerByScalarFastPaths) {
    for (float e : {2.f, 3.f, -1.f, 1.f, 0.5f, -2.5f}) {
        check_node("Power", {random_f32({3, 1001}, 2, 4.f), Tensor::scalar(e)});
        check_node("Power", {random_f32({7}, 2, 4.f), Tensor::from_vector<float>({e}, {1, 1})});
    }
}

TEST(CpuElementwiseKernels, BinaryRowPrimitivesOfEveryIsa) {
    using cpu::ew::Operands;
    const std::vector<std::pair<const char*, cpu::ew::BinaryOp>> ops = {
        {"Add", cpu::ew::BinaryOp::add},
        {"Subtract", cpu::ew::BinaryOp::sub},
        {"Multiply", cpu::ew::BinaryOp::mul},
        {"Divide", cpu::ew::BinaryOp::div},
        {"Maximum", cpu::ew::BinaryOp::max},
        {"Minimum", cpu::ew::BinaryOp::min},
        {"SquaredDifference", cpu::ew::BinaryOp::sqdiff},
        {"Power", cpu::ew::BinaryOp::pow}};
    const int64_t n = 1037;
    const Tensor a = random_f32({n}, 4), b = random_f32({n}, 5);
    const Tensor sa = random_f32({1}, 6, 8.f, false), sb = random_f32({1}, 8, 8.f, false);
    for (const auto& [type, op] : ops) {
        const Tensor vv = evaluate_model(*one_node_model(type, {{n}, {n}}), {a, b})[0];
        const Tensor vs = evaluate_model(*one_node_model(type, {{n}, {1}}), {a, sb})[0];
        const Tensor sv = evaluate_model(*one_node_model(type, {{1}, {n}}), {sa, b})[0];
        for (auto isa : isas()) {
            const auto& k = cpu::ew::ew_kernels(isa);
            const std::string what = std::string(type) + " isa=" + cpu::gemm::isa_name(isa);
            Tensor y(ElementType::f32, {n});
            k.binary(op, Operands::vector_vector, a.data<float>(), b.data<float>(), y.data<float>(),
                     n);
            expect_close(y, vv, what + " vv");
            k.binary(op, Operands::vector_scalar, a.data<float>(), sb.data<float>(),
                     y.data<float>(), n);
            expect_close(y, vs, what + " vs");
            k.binary(op, Operands::scalar_vector, sa.data<float>(), b.data<float>(),
                     y.data<float>(), n);
            expect_close(y, sv, what + " sv");
        }
    }
}

TEST(CpuElementwiseKernels, MaxMinPropagateNaNFromEitherSide) {
    const Tensor a = Tensor::from_vector<float>({NAN, 1.f, NAN, -0.f});
    const Tensor b = Tensor::from_vector<float>({2.f, NAN, NAN, 0.f});
    check_node("Maximum", {a, b});
    check_node("Minimum", {a, b});
}

TEST(CpuElementwiseKernels, BroadcastPlanMergesAxes) {
    auto p = cpu::ew::plan_broadcast({2, 5, 7, 9}, {1, 5, 1, 1});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->inner, 63);
    EXPECT_EQ(p->kind, cpu::ew::Operands::vector_scalar);
    EXPECT_EQ(p->rows(), 10);
    p = cpu::ew::plan_broadcast({4, 6, 33}, {33});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->inner, 33);
    EXPECT_EQ(p->rows(), 24);
    EXPECT_EQ(p->outer.size(), 1u);
    p = cpu::ew::plan_broadcast({3, 4}, {3, 4});
    EXPECT_EQ(p->inner, 12);
    EXPECT_EQ(p->rows(), 1);
    EXPECT_FALSE(cpu::ew::plan_broadcast({3, 4}, {3, 5}));
}

TEST(CpuElementwiseKernels, IncompatibleShapesAtRunTimeThrow) {
    auto a = make_parameter(ElementType::f32, PartialShape::dynamic(1), "a");
    auto b = make_parameter(ElementType::f32, PartialShape::dynamic(1), "b");
    auto y = make_node("Add", {a->output(0), b->output(0)});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{a, b});
    auto compiled = std::make_shared<const cpu::CompiledModel>(model, AnyMap{});
    cpu::InferRequest req(compiled);
    req.set_input(0, random_f32({3}, 1));
    req.set_input(1, random_f32({4}, 2));
    EXPECT_THROW(req.infer(), Error);
}

TEST(CpuSoftmaxKernel, MatchesReferenceOnEveryAxis) {
    const std::vector<std::pair<Shape, int64_t>> cases = {
        {{3, 17}, -1},    {{2, 5, 7}, 1}, {{2, 5, 7}, 0}, {{1, 300, 4}, 1},     {{2, 3, 517}, 2},
        {{1, 7, 300}, 1}, {{4, 1}, 1},    {{0, 5}, 1},    {{12, 128, 128}, -1}, {{2, 64, 700}, 1}};
    for (const char* type : {"Softmax", "LogSoftmax"}) {
        // The f32 sum of the exponentials limits LogSoftmax to ~1e-7 absolute near 0.
        const float atol = std::string(type) == "LogSoftmax" ? 1e-6f : 1e-37f;
        uint32_t seed = 1;
        for (const auto& [shape, axis] : cases) {
            check_node(type, {random_f32(shape, seed++, 30.f, false)}, {{"axis", axis}}, true,
                       atol);
            // Rows holding NaN or inf come out NaN in both.
            check_node(type, {random_f32(shape, seed++, 30.f, true)}, {{"axis", axis}}, true, atol);
        }
    }
}

TEST(CpuSoftmaxKernel, RowPrimitivesOfEveryIsa) {
    for (bool log : {false, true}) {
        const char* type = log ? "LogSoftmax" : "Softmax";
        for (int64_t n : {1, 5, 16, 37, 1001}) {
            const Tensor x = random_f32({3, n}, 9, 20.f, false);
            const Tensor row_ref =
                evaluate_model(*one_node_model(type, {x.shape()}, {{"axis", int64_t{1}}}), {x})[0];
            const Tensor col_ref =
                evaluate_model(*one_node_model(type, {x.shape()}, {{"axis", int64_t{0}}}), {x})[0];
            for (auto isa : isas()) {
                const auto& k = cpu::ew::ew_kernels(isa);
                const std::string what = std::string(type) + " isa=" + cpu::gemm::isa_name(isa);
                Tensor y(ElementType::f32, x.shape());
                for (int r = 0; r < 3; ++r)
                    k.softmax_row(x.data<float>() + r * n, y.data<float>() + r * n, n, log);
                expect_close(y, row_ref, what + " row", 1e-6f);
                std::vector<float> scratch(2 * n);
                k.softmax_strided(x.data<float>(), y.data<float>(), 3, n, n, scratch.data(), log);
                expect_close(y, col_ref, what + " strided", 1e-6f);
            }
        }
    }
}

namespace {

void check_reduce(const char* type, const Shape& shape, std::vector<int64_t> axes, bool keep,
                  bool expect_fast) {
    auto x = make_parameter(ElementType::f32, shape, "x");
    auto a = make_constant(Tensor::from_vector<int64_t>(axes, {static_cast<int64_t>(axes.size())}));
    auto y = make_node(type, {x->output(0), a->output(0)}, {{"keep_dims", keep}});
    auto model =
        std::make_shared<Model>(OutputVector{y->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    const Tensor input = random_f32(shape, 17, 4.f, false);
    const Tensor ref = evaluate_model(*model, {input})[0];
    for (const char* threads : {"1", "3"}) {
        auto compiled = std::make_shared<const cpu::CompiledModel>(
            model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
        EXPECT_EQ(compiled->plan().device_kernel_count(), expect_fast ? 1u : 0u);
        cpu::InferRequest req(compiled);
        req.set_input(0, input);
        req.infer();
        // Sums of n values of magnitude ~4 carry an f32 error of order 1e-7 * sqrt(n) * 4.
        const Tensor& fast = req.output(0);
        ASSERT_EQ(fast.shape(), ref.shape());
        for (int64_t i = 0; i < ref.size(); ++i) {
            const float r = ref.data<float>()[i], f = fast.data<float>()[i];
            if (std::isnan(r))
                EXPECT_TRUE(std::isnan(f));
            else
                ASSERT_NEAR(f, r, 1e-5f * (1.f + std::fabs(r))) << type << " element " << i;
        }
    }
}

}  // namespace

TEST(CpuReduceKernel, SumAndMeanOverAdjacentAxes) {
    for (const char* type : {"ReduceSum", "ReduceMean"}) {
        for (bool keep : {false, true}) {
            check_reduce(type, {3, 37, 769}, {-1}, keep, true);    // LayerNorm
            check_reduce(type, {2, 5, 7, 9}, {2, 3}, keep, true);  // global average
            check_reduce(type, {2, 5, 7, 9}, {1}, keep, true);     // middle axis
            check_reduce(type, {2, 5, 7, 9}, {1, 2}, keep, true);
            check_reduce(type, {2, 5, 7, 9}, {0, 1, 2, 3}, keep, true);
            check_reduce(type, {1, 3, 70000}, {2}, keep, true);  // blocked long rows
            check_reduce(type, {4, 0, 3}, {1}, keep, true);      // empty reduction
            check_reduce(type, {2, 5, 7}, {0, 2}, keep, false);  // not adjacent
        }
    }
}

TEST(CpuConcatKernel, MatchesReferenceOnEveryAxisAndType) {
    const std::vector<Shape> parts = {{2, 3, 5, 7}, {2, 1, 5, 7}, {2, 4, 5, 7}};
    for (int64_t axis : {0, 1, -1, 2}) {
        TensorVector inputs;
        std::vector<Shape> shapes;
        for (size_t i = 0; i < parts.size(); ++i) {
            Shape s = {2, 3, 5, 7};
            const int64_t a = axis < 0 ? axis + 4 : axis;
            s[a] = parts[i][1];  // 3, 1, 4 along the axis
            shapes.push_back(s);
            inputs.push_back(random_f32(s, static_cast<uint32_t>(i), 4.f, false));
        }
        check_node("Concat", inputs, {{"axis", axis}});
    }
    // Large enough to split over threads, with an empty part.
    check_node("Concat",
               {random_f32({1, 64, 56, 56}, 1), random_f32({1, 0, 56, 56}, 2),
                random_f32({1, 32, 56, 56}, 3)},
               {{"axis", int64_t{1}}});
    // Other element types copy bytes alike.
    const Tensor a = Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor b = Tensor::from_vector<int64_t>({7, 8}, {2, 1});
    auto pa = make_parameter(ElementType::i64, Shape{2, 3}, "a");
    auto pb = make_parameter(ElementType::i64, Shape{2, 1}, "b");
    auto y = make_node("Concat", {pa->output(0), pb->output(0)}, {{"axis", int64_t{1}}});
    auto m = std::make_shared<Model>(OutputVector{y->output(0)},
                                     std::vector<std::shared_ptr<Node>>{pa, pb});
    auto compiled = std::make_shared<const cpu::CompiledModel>(m, AnyMap{});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    cpu::InferRequest req(compiled);
    req.set_input(0, a);
    req.set_input(1, b);
    req.infer();
    EXPECT_TRUE(req.output(0).identical(evaluate_model(*m, {a, b})[0]));
}

namespace {

// Values meant for `type`: extremes, NaN, and values that round to the boundaries.
Tensor convert_input(ElementType type, int64_t n) {
    const Tensor f = random_f32({n}, 23, 70000.f, true);
    Tensor t(type, {n});
    for (int64_t i = 0; i < n; ++i) {
        const float v = f.data<float>()[i];
        if (type == ElementType::f32) t.data<float>()[i] = v;
        if (type == ElementType::f16) t.data<float16>()[i] = float16(v);
        if (type == ElementType::bf16) t.data<bfloat16>()[i] = bfloat16(v);
        if (type == ElementType::i64)
            t.data<int64_t>()[i] =
                std::fabs(v) < 1e6f ? static_cast<int64_t>(v) * 1000003 : INT64_MIN + i;
    }
    if (type == ElementType::f32 && n > 4) {
        float* p = t.data<float>();
        p[0] = 65520.f;   // rounds to f16 inf
        p[1] = 5.96e-8f;  // f16 denormal
        p[2] = 9.3e18f;   // past i64
        p[3] = -9.3e18f;
        p[4] = 3.0000001e-5f;
    }
    return t;
}

bool same_value(const Tensor& a, const Tensor& b, int64_t i) {
    if (a.element_type() == ElementType::i64) return a.data<int64_t>()[i] == b.data<int64_t>()[i];
    const double x = a.value_as_double(i), y = b.value_as_double(i);
    return (std::isnan(x) && std::isnan(y)) || x == y;
}

}  // namespace

TEST(CpuConvertKernel, MatchesReferenceExactly) {
    using E = ElementType;
    const std::vector<std::pair<E, E>> pairs = {{E::f32, E::f16},  {E::f16, E::f32},
                                                {E::f32, E::bf16}, {E::bf16, E::f32},
                                                {E::i64, E::f32},  {E::f32, E::i64}};
    for (const auto& [from, to] : pairs) {
        for (int64_t n : {1, 15, 17, 70001}) {
            const Tensor x = convert_input(from, n);
            auto p = make_parameter(from, Shape{n}, "x");
            auto y = make_node("Convert", {p->output(0)},
                               {{"destination_type", std::string(to_string(to))}});
            auto m = std::make_shared<Model>(OutputVector{y->output(0)},
                                             std::vector<std::shared_ptr<Node>>{p});
            const Tensor ref = evaluate_model(*m, {x})[0];
            auto compiled = std::make_shared<const cpu::CompiledModel>(
                m, AnyMap{{"INFERENCE_NUM_THREADS", "3"}});
            EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
            cpu::InferRequest req(compiled);
            req.set_input(0, x);
            req.infer();
            ASSERT_EQ(req.output(0).element_type(), to);
            for (int64_t i = 0; i < n; ++i)
                ASSERT_TRUE(same_value(req.output(0), ref, i))
                    << to_string(from) << "->" << to_string(to) << " element " << i << ": "
                    << x.value_as_double(i) << " gives " << req.output(0).value_as_double(i)
                    << ", reference " << ref.value_as_double(i);
            for (auto isa : isas()) {
                Tensor z(to, {n});
                cpu::ew::ew_kernels(isa).convert(
                    [&] {
                        if (from == E::f32 && to == E::f16) return cpu::ew::ConvertOp::f32_to_f16;
                        if (from == E::f16) return cpu::ew::ConvertOp::f16_to_f32;
                        if (to == E::bf16) return cpu::ew::ConvertOp::f32_to_bf16;
                        if (from == E::bf16) return cpu::ew::ConvertOp::bf16_to_f32;
                        if (from == E::i64) return cpu::ew::ConvertOp::i64_to_f32;
                        return cpu::ew::ConvertOp::f32_to_i64;
                    }(),
                    x.raw_data(), z.raw_data(), static_cast<size_t>(n));
                for (int64_t i = 0; i < n; ++i)
                    ASSERT_TRUE(same_value(z, ref, i))
                        << cpu::gemm::isa_name(isa) << " element " << i;
            }
        }
    }
}

namespace {

// Split (num_splits > 0) or VariadicSplit (lengths) of a parameter of `shape` on `axis`, every
// output a model output; the CPU kernel must give the reference's outputs bit for bit.
void check_split(const Tensor& x, int64_t axis, std::vector<int64_t> lengths, int64_t num_splits,
                 const PartialShape& declared) {
    auto p = make_parameter(x.element_type(), declared, "x");
    auto a = make_constant(Tensor::scalar(axis));
    std::shared_ptr<Node> split;
    if (num_splits > 0) {
        split = make_node("Split", {p->output(0), a->output(0)}, {{"num_splits", num_splits}});
    } else {
        const auto n = static_cast<int64_t>(lengths.size());
        split = make_node("VariadicSplit", {p->output(0), a->output(0),
                                            make_constant(Tensor::from_vector(lengths, {n}))->output(0)});
    }
    auto m = std::make_shared<Model>(split->outputs(), std::vector<std::shared_ptr<Node>>{p});
    const TensorVector want = evaluate_model(*m, {x});
    for (const char* threads : {"1", "3"}) {
        auto compiled = std::make_shared<const cpu::CompiledModel>(
            m, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
        EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
        cpu::InferRequest req(compiled);
        req.set_input(0, x);
        req.infer();
        for (size_t i = 0; i < want.size(); ++i)
            EXPECT_TRUE(req.output(i).identical(want[i]))
                << "axis " << axis << " output " << i << " threads " << threads;
    }
}

}  // namespace

TEST(CpuSplitKernel, MatchesReferenceOnEveryAxisAndType) {
    const Tensor x = random_f32({2, 6, 5, 7}, 4);
    for (int64_t axis : {0, 1, 2, -1}) {
        const int64_t dim = x.shape()[axis < 0 ? axis + 4 : axis];
        check_split(x, axis, {1, -1, 0}, 0, x.shape());
        check_split(x, axis, {dim - 1, 1}, 0, x.shape());
        if (dim % 2 == 0) check_split(x, axis, {}, 2, x.shape());
        check_split(x, axis, {}, 1, x.shape());
    }
    // A transformer's stacked q/k/v, large enough to split over threads.
    check_split(random_f32({1, 128, 2304}, 5), 2, {768, 768, 768}, 0, PartialShape({1, -1, 2304}));
    // Other element types copy bytes alike.
    check_split(Tensor::from_vector<int64_t>({1, 2, 3, 4, 5, 6}, {2, 3}), 1, {2, 1}, 0,
                PartialShape({2, 3}));
}

TEST(CpuSplitKernel, LengthsThatDoNotFitAtRunTimeThrow) {
    auto p = make_parameter(ElementType::f32, PartialShape::dynamic(2), "x");
    auto a = make_constant(Tensor::scalar(int64_t{1}));
    auto l = make_constant(Tensor::from_vector<int64_t>({2, 2}, {2}));
    auto split = make_node("VariadicSplit", {p->output(0), a->output(0), l->output(0)});
    auto m = std::make_shared<Model>(split->outputs(), std::vector<std::shared_ptr<Node>>{p});
    auto compiled = std::make_shared<const cpu::CompiledModel>(m, AnyMap{});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    cpu::InferRequest req(compiled);
    req.set_input(0, random_f32({3, 5}, 1));
    EXPECT_THROW(req.infer(), Error);
    auto even = make_node("Split", {p->output(0), a->output(0)}, {{"num_splits", int64_t{2}}});
    auto m2 = std::make_shared<Model>(even->outputs(), std::vector<std::shared_ptr<Node>>{p});
    cpu::InferRequest req2(std::make_shared<const cpu::CompiledModel>(m2, AnyMap{}));
    req2.set_input(0, random_f32({3, 5}, 1));
    EXPECT_THROW(req2.infer(), Error);
}

TEST(CpuConcatKernel, MismatchedShapesAtRunTimeThrow) {
    auto a = make_parameter(ElementType::f32, PartialShape::dynamic(2), "a");
    auto b = make_parameter(ElementType::f32, PartialShape::dynamic(2), "b");
    auto y = make_node("Concat", {a->output(0), b->output(0)}, {{"axis", int64_t{1}}});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{a, b});
    auto compiled = std::make_shared<const cpu::CompiledModel>(model, AnyMap{});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    cpu::InferRequest req(compiled);
    req.set_input(0, random_f32({2, 3}, 1));
    req.set_input(1, random_f32({3, 3}, 2));
    EXPECT_THROW(req.infer(), Error);
}

TEST(CpuElementwiseKernels, SwishBetaOfSeveralValuesThrows) {
    auto x = make_parameter(ElementType::f32, Shape{4}, "x");
    auto beta = make_parameter(ElementType::f32, PartialShape::dynamic(1), "beta");
    auto y = make_node("Swish", {x->output(0), beta->output(0)});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x, beta});
    auto compiled = std::make_shared<const cpu::CompiledModel>(model, AnyMap{});
    cpu::InferRequest req(compiled);
    req.set_input(0, random_f32({4}, 1));
    req.set_input(1, random_f32({2}, 2));
    EXPECT_THROW(req.infer(), Error);
}
