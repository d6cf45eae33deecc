// The transformer fusion passes (GELU, LayerNorm / RMSNorm, MatMul + bias, attention) and the
// attention kernel: the rewritten graph has the fused node, computes what the unfused graph
// computes (reference kernels and the CPU device), and values used elsewhere are never fused away.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "ops/reference_executor.hpp"
#include "transforms/attention_fusion.hpp"
#include "transforms/gelu_fusion.hpp"
#include "transforms/layer_norm_fusion.hpp"
#include "transforms/matmul_bias_fusion.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::count_type;

namespace {

Tensor random_f32(Shape shape, uint32_t seed, float lo = -2.f, float hi = 2.f) {
    return test_data::random_f32(std::move(shape), seed, lo, hi);
}

Output cst(float v) { return make_constant(Tensor::scalar(v))->output(0); }
Output cst(const Tensor& t) { return make_constant(t)->output(0); }
Output op(const char* type, Output a, Output b) { return make_op(type, {a, b}); }

void expect_close(const TensorVector& a, const TensorVector& b, float tol) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) {
        ASSERT_EQ(a[k].shape(), b[k].shape());
        for (int64_t i = 0; i < a[k].size(); ++i) {
            const float x = a[k].data<float>()[i], y = b[k].data<float>()[i];
            ASSERT_NEAR(x, y, tol * (1.f + std::fabs(y))) << "output " << k << " element " << i;
        }
    }
}

// Runs `pass` on a copy of the model; checks the fused-type count and that the fused graph (by
// reference kernels and on the CPU device with 2 threads) matches the original.
template <class Pass>
void check_pass(const std::shared_ptr<Model>& model, const std::string& fused_type, size_t expected,
                const TensorVector& inputs, float tol = 1e-5f) {
    const TensorVector before = evaluate_model(*model, inputs);
    auto fused = model->clone();
    Pass().run(*fused);
    fused->validate();
    EXPECT_EQ(count_type(*fused, fused_type), expected);
    expect_close(evaluate_model(*fused, inputs), before, tol);
    cpu::InferRequest req(
        std::make_shared<const cpu::CompiledModel>(fused, AnyMap{{"INFERENCE_NUM_THREADS", "2"}}));
    for (size_t i = 0; i < inputs.size(); ++i) req.set_input(i, inputs[i]);
    req.infer();
    TensorVector outs;
    for (size_t i = 0; i < before.size(); ++i) outs.push_back(req.output(i));
    expect_close(outs, before, tol);
}

std::shared_ptr<Model> model_of(OutputVector outs, std::shared_ptr<Node> x) {
    return std::make_shared<Model>(outs, std::vector<std::shared_ptr<Node>>{x});
}

}  // namespace

TEST(GeluFusion, ErfFormInEveryGrouping) {
    auto x = make_parameter(ElementType::f32, Shape{3, 17}, "x");
    const Output xo = x->output(0);
    auto erf1 = [&](bool div) {
        Output u = div ? op("Divide", xo, cst(1.4142135f)) : op("Multiply", cst(0.70710678f), xo);
        return op("Add", cst(1.f), make_op("Erf", {u}));
    };
    const Output a = op("Multiply", op("Multiply", xo, erf1(true)), cst(0.5f));   // torch
    const Output b = op("Multiply", xo, op("Multiply", erf1(false), cst(0.5f)));  // x*(a*0.5)
    const Output c = op("Multiply", op("Multiply", cst(0.5f), xo), erf1(true));   // (0.5x)*a
    const Output d = op("Divide", op("Multiply", erf1(true), xo), cst(2.f));      // (x*a)/2
    check_pass<GeluFusion>(model_of({a, b, c, d}, x), "Gelu", 4, {random_f32({3, 17}, 1)});
}

TEST(GeluFusion, TanhFormWithEachCube) {
    auto x = make_parameter(ElementType::f32, Shape{2, 5, 9}, "x");
    const Output xo = x->output(0);
    auto gelu = [&](Output cube) {
        Output inner = op("Add", xo, op("Multiply", cst(0.044715f), cube));
        Output t = make_op("Tanh", {op("Multiply", cst(0.7978845608f), inner)});
        return op("Multiply", cst(0.5f), op("Multiply", xo, op("Add", cst(1.f), t)));
    };
    const Output a = gelu(op("Multiply", xo, op("Multiply", xo, xo)));  // torch 1.13
    const Output b = gelu(op("Power", xo, cst(3.f)));
    const Output c = gelu(op("Multiply", op("Multiply", xo, xo), xo));
    check_pass<GeluFusion>(model_of({a, b, c}, x), "Gelu", 3, {random_f32({2, 5, 9}, 2)});
}

TEST(GeluFusion, KeepsChainsWhoseIntermediatesAreUsedElsewhere) {
    auto x = make_parameter(ElementType::f32, Shape{4, 7}, "x");
    const Output xo = x->output(0);
    const Output e = make_op("Erf", {op("Divide", xo, cst(1.4142135f))});
    const Output a = op("Add", e, cst(1.f));
    const Output y = op("Multiply", op("Multiply", xo, a), cst(0.5f));
    check_pass<GeluFusion>(model_of({y, a}, x), "Gelu", 0, {random_f32({4, 7}, 3)});
    // A wrong constant is not GELU either.
    const Output e2 = make_op("Erf", {op("Divide", xo, cst(1.5f))});
    const Output y2 = op("Multiply", op("Multiply", xo, op("Add", e2, cst(1.f))), cst(0.5f));
    check_pass<GeluFusion>(model_of({y2}, x), "Gelu", 0, {random_f32({4, 7}, 3)});
}

namespace {

Output mvn(Output x, std::vector<int64_t> axes, float eps) {
    return make_op("MVN", {x, cst(Tensor::from_vector<int64_t>(axes))},
                   {{"normalize_variance", true},
                    {"eps", double{eps}},
                    {"eps_mode", std::string("inside_sqrt")}});
}

}  // namespace

TEST(LayerNormFusion, MvnScaleBiasOverTrailingAxes) {
    auto x = make_parameter(ElementType::f32, Shape{2, 3, 37}, "x");
    const Output xo = x->output(0);
    const Output a = op("Add", op("Multiply", mvn(xo, {-1}, 1e-5f), cst(random_f32({37}, 4))),
                        cst(random_f32({37}, 5)));
    const Output b = op("Multiply", mvn(xo, {1, 2}, 1e-3f), cst(random_f32({3, 1}, 6)));
    const Output c = op("Add", mvn(xo, {2}, 1e-5f), cst(random_f32({1, 37}, 7)));
    check_pass<LayerNormFusion>(model_of({a, b, c}, x), "LayerNorm", 3,
                                {random_f32({2, 3, 37}, 8, -3.f, 5.f)}, 1e-4f);
}

TEST(LayerNormFusion, StopsAtSharedValuesAndOtherAxes) {
    auto x = make_parameter(ElementType::f32, Shape{5, 19}, "x");
    const Output xo = x->output(0);
    const Output n = mvn(xo, {1}, 1e-5f);
    const Output scaled = op("Multiply", n, cst(random_f32({19}, 9)));
    const Output y = op("Add", scaled, cst(random_f32({19}, 10)));
    // `scaled` is an output too: the fused node ends before the Add.
    check_pass<LayerNormFusion>(model_of({y, scaled}, x), "LayerNorm", 1, {random_f32({5, 19}, 11)},
                                1e-4f);
    auto fused = model_of({y, scaled}, x)->clone();
    LayerNormFusion().run(*fused);
    EXPECT_EQ(count_type(*fused, "Add"), 1u);
    // Axis 0 is not a trailing axis; a bias of the full shape broadcasts over more than the
    // normalized axis.
    const Output z = mvn(xo, {0}, 1e-5f);
    const Output w = op("Add", mvn(xo, {1}, 1e-5f), cst(random_f32({5, 19}, 12)));
    check_pass<LayerNormFusion>(model_of({z, w}, x), "LayerNorm", 1, {random_f32({5, 19}, 13)},
                                1e-4f);
}

TEST(LayerNormFusion, RmsNormPatterns) {
    auto x = make_parameter(ElementType::f32, Shape{3, 41}, "x");
    const Output xo = x->output(0);
    auto rms = [&](bool pow, bool divide) {
        Output sq = pow ? op("Power", xo, cst(2.f)) : op("Multiply", xo, xo);
        Output mean = make_op("ReduceMean", {sq, cst(Tensor::from_vector<int64_t>({-1}))},
                              {{"keep_dims", true}});
        Output s = make_op("Sqrt", {op("Add", mean, cst(1e-6f))});
        Output y = divide ? op("Divide", xo, s) : op("Multiply", xo, op("Divide", cst(1.f), s));
        return op("Multiply", cst(random_f32({41}, 14)), y);
    };
    check_pass<LayerNormFusion>(model_of({rms(true, false), rms(false, true)}, x), "LayerNorm", 2,
                                {random_f32({3, 41}, 15)}, 1e-4f);
}

TEST(MatMulBiasFusion, FusesConstantBiasOnly) {
    auto x = make_parameter(ElementType::f32, Shape{2, 7, 13}, "x");
    const Output xo = x->output(0);
    const Output a =
        op("Add", cst(random_f32({29}, 16)), op("MatMul", xo, cst(random_f32({13, 29}, 17))));
    const Output b =
        op("Add", make_op("MatMul", {xo, cst(random_f32({31, 13}, 18))}, {{"transpose_b", true}}),
           cst(random_f32({1, 1, 31}, 19)));
    check_pass<MatMulBiasFusion>(model_of({a, b}, x), "FullyConnected", 2,
                                 {random_f32({2, 7, 13}, 20)});
}

TEST(MatMulBiasFusion, KeepsSharedProductsAndFullBiases) {
    auto x = make_parameter(ElementType::f32, Shape{3, 11}, "x");
    const Output xo = x->output(0);
    const Output p = op("MatMul", xo, cst(random_f32({11, 5}, 21)));
    const Output a = op("Add", p, cst(random_f32({5}, 22)));
    const Output b = op("Add", op("MatMul", xo, cst(random_f32({11, 5}, 23))),
                        cst(random_f32({3, 5}, 24)));  // not one value per column
    const Output c =
        op("Add", op("MatMul", xo, cst(random_f32({11, 5}, 25))), b);  // bias not constant
    check_pass<MatMulBiasFusion>(model_of({a, p, b, c}, x), "FullyConnected", 0,
                                 {random_f32({3, 11}, 26)});
}

namespace {

// Attention as torch exports it: q [B,H,L,E]; k given as Transpose(k0 [B,S,H,E], {0,2,3,1}).
std::shared_ptr<Model> attention_graph(bool with_mask, bool scale_by_divide, bool probs_out) {
    auto q = make_parameter(ElementType::f32, Shape{2, 3, 7, 5}, "q");
    auto k0 = make_parameter(ElementType::f32, Shape{2, 9, 3, 5}, "k");
    auto v = make_parameter(ElementType::f32, Shape{2, 3, 9, 4}, "v");
    auto mask = make_parameter(ElementType::f32, Shape{2, 1, 1, 9}, "mask");
    const Output kt =
        make_op("Transpose", {k0->output(0), cst(Tensor::from_vector<int64_t>({0, 2, 3, 1}))});
    Output s = op("MatMul", q->output(0), kt);
    s = scale_by_divide ? op("Divide", s, cst(2.2360679f)) : op("Multiply", cst(0.5f), s);
    if (with_mask) s = op("Add", s, mask->output(0));
    const Output p = make_op("Softmax", {s}, {{"axis", int64_t{-1}}});
    const Output y = op("MatMul", p, v->output(0));
    OutputVector outs{y};
    if (probs_out) outs.push_back(p);
    std::vector<std::shared_ptr<Node>> params{q, k0, v};
    if (with_mask) params.push_back(mask);
    return std::make_shared<Model>(outs, params);
}

void check_attention(bool with_mask, bool scale_by_divide, bool probs_out, size_t expected) {
    auto model = attention_graph(with_mask, scale_by_divide, probs_out);
    TensorVector inputs{random_f32({2, 3, 7, 5}, 30), random_f32({2, 9, 3, 5}, 31),
                        random_f32({2, 3, 9, 4}, 32)};
    if (with_mask) {
        Tensor m = random_f32({2, 1, 1, 9}, 33);
        m.data<float>()[3] = -10000.f;  // a padded position
        inputs.push_back(m);
    }
    check_pass<AttentionFusion>(model, "ScaledDotProductAttention", expected, inputs, 1e-5f);
}

}  // namespace

TEST(AttentionFusion, TorchExportedAttention) {
    check_attention(true, true, false, 1);
    check_attention(false, false, false, 1);
}

TEST(AttentionFusion, KeepsAttentionWhoseProbabilitiesAreUsed) {
    check_attention(true, true, true, 0);
}

namespace {

void check_sdpa_kernel(const Shape& qs, const Shape& ks, const Shape& vs, const Shape* mask_shape,
                       bool bool_mask, bool causal, const char* threads) {
    auto q = make_parameter(ElementType::f32, qs, "q");
    auto k = make_parameter(ElementType::f32, ks, "k");
    auto v = make_parameter(ElementType::f32, vs, "v");
    OutputVector ins{q->output(0), k->output(0), v->output(0)};
    std::vector<std::shared_ptr<Node>> params{q, k, v};
    TensorVector inputs{random_f32(qs, 40), random_f32(ks, 41), random_f32(vs, 42)};
    if (mask_shape) {
        auto m = make_parameter(bool_mask ? ElementType::boolean : ElementType::f32, *mask_shape,
                                "mask");
        ins.push_back(m->output(0));
        params.push_back(m);
        Tensor mt = random_f32(*mask_shape, 43);
        if (bool_mask) {
            Tensor b(ElementType::boolean, *mask_shape);
            for (int64_t i = 0; i < b.size(); ++i) b.data<bool>()[i] = i % 3 != 1;
            mt = b;
        }
        inputs.push_back(mt);
        ins.push_back(cst(0.3f));  // explicit scale
    }
    auto y = make_node("ScaledDotProductAttention", ins, {{"causal", causal}});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)}, params);
    auto compiled = std::make_shared<const cpu::CompiledModel>(
        model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    cpu::InferRequest req(compiled);
    for (size_t i = 0; i < inputs.size(); ++i) req.set_input(i, inputs[i]);
    req.infer();
    expect_close({req.output(0)}, evaluate_model(*model, inputs), 1e-5f);
}

}  // namespace

TEST(CpuAttentionKernel, MatchesReferenceOnOddSizes) {
    for (const char* threads : {"1", "2"}) {
        const Shape m1{2, 1, 1, 19}, m2{17, 19}, m3{2, 3, 17, 1};
        check_sdpa_kernel({2, 3, 17, 9}, {2, 3, 19, 9}, {2, 3, 19, 5}, nullptr, false, false,
                          threads);
        check_sdpa_kernel({2, 3, 17, 9}, {2, 3, 19, 9}, {2, 3, 19, 5}, &m1, false, false, threads);
        check_sdpa_kernel({2, 3, 17, 9}, {2, 3, 19, 9}, {2, 3, 19, 5}, &m2, true, false, threads);
        check_sdpa_kernel({2, 3, 17, 9}, {2, 3, 19, 9}, {2, 3, 19, 5}, &m3, false, false, threads);
        check_sdpa_kernel({1, 5, 33, 7}, {1, 5, 33, 7}, {1, 5, 33, 7}, nullptr, false, true,
                          threads);
        check_sdpa_kernel({3, 1, 4}, {1, 40, 4}, {3, 40, 6}, nullptr, false, false, threads);
        // Few query rows (decode): dot products straight from K and V, with embedding and
        // value tails that are not multiples of the vector width.
        check_sdpa_kernel({2, 3, 5, 9}, {2, 3, 19, 9}, {2, 3, 19, 70}, &m1, false, false, threads);
        check_sdpa_kernel({1, 5, 7, 17}, {1, 5, 7, 17}, {1, 5, 7, 17}, nullptr, false, true,
                          threads);
    }
}

TEST(CpuAttentionKernel, MaskThatWouldGrowTheScoresIsAnError) {
    auto q = make_parameter(ElementType::f32, PartialShape::dynamic(3), "q");
    auto k = make_parameter(ElementType::f32, Shape{2, 6, 4}, "k");
    auto v = make_parameter(ElementType::f32, Shape{2, 6, 3}, "v");
    auto m = make_parameter(ElementType::f32, PartialShape::dynamic(3), "mask");
    auto y = make_node("ScaledDotProductAttention",
                       {q->output(0), k->output(0), v->output(0), m->output(0)});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{q, k, v, m});
    cpu::InferRequest req(std::make_shared<const cpu::CompiledModel>(model, AnyMap{}));
    req.set_input(0, random_f32({2, 1, 4}, 1));
    req.set_input(1, random_f32({2, 6, 4}, 2));
    req.set_input(2, random_f32({2, 6, 3}, 3));
    req.set_input(3, random_f32({2, 5, 6}, 4));  // 5 query rows where there is 1
    EXPECT_THROW(req.infer(), Error);
    req.set_input(3, random_f32({2, 1, 6}, 4));
    req.set_input(0, random_f32({2, 1, 5}, 1));  // embedding 5 against the keys' 4
    EXPECT_THROW(req.infer(), Error);
}
