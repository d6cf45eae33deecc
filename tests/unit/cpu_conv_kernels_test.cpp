// The fused convolution kernels (GEMM, pointwise, depthwise) against the reference kernel of
// FusedConvolution, on random inputs of odd sizes, every activation, with and without residual.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;

namespace {

using Ints = std::vector<int64_t>;

Tensor random_f32(Shape shape, uint32_t seed, float scale = 1.f) {
    return test_data::random_f32(std::move(shape), seed, -scale, scale);
}

struct Case {
    Shape x, w;  // w rank 5 = depthwise GroupConvolution filters
    Ints strides{1, 1}, pads_begin{0, 0}, pads_end{0, 0}, dilations{1, 1};
    std::string auto_pad = "explicit";
};

Attributes attrs_of(const Case& c, const std::string& act, double alpha, double beta) {
    return {{"strides", c.strides},   {"pads_begin", c.pads_begin},
            {"pads_end", c.pads_end}, {"dilations", c.dilations},
            {"auto_pad", c.auto_pad}, {"activation", act},
            {"alpha", alpha},         {"beta", beta}};
}

void check(const Case& c, const std::string& act, bool residual, const char* threads,
           double alpha = 0, double beta = 0) {
    SCOPED_TRACE(to_string(c.x) + " * " + to_string(c.w) + " " + act + (residual ? " +res" : "") +
                 " threads " + threads);
    const int64_t cout = c.w.size() == 5 ? c.w[0] * c.w[1] : c.w[0];
    auto x = make_parameter(ElementType::f32, c.x, "x");
    std::vector<std::shared_ptr<Node>> params{x};
    OutputVector ins{x->output(0), make_constant(random_f32(c.w, 5), "w")->output(0),
                     make_constant(random_f32({cout}, 6), "b")->output(0)};
    // The residual's shape is the output's, which shape inference gives.
    auto probe = make_node("FusedConvolution", ins, attrs_of(c, act, alpha, beta));
    const Shape out_shape = probe->output_shape(0).to_shape();
    if (residual) {
        params.push_back(make_parameter(ElementType::f32, out_shape, "r"));
        ins.push_back(params.back()->output(0));
    }
    auto y = make_node("FusedConvolution", ins, attrs_of(c, act, alpha, beta));
    auto model = std::make_shared<Model>(OutputVector{y->output(0)}, params);
    auto compiled = std::make_shared<const cpu::CompiledModel>(
        model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    TensorVector inputs{random_f32(c.x, 3, 2.f)};
    if (residual) inputs.push_back(random_f32(out_shape, 4, 2.f));
    cpu::InferRequest req(compiled);
    for (size_t i = 0; i < inputs.size(); ++i) req.set_input(i, inputs[i]);
    req.infer();
    const Tensor& fast = req.output(0);
    const Tensor ref = evaluate_model(*model, inputs)[0];
    ASSERT_EQ(fast.shape(), ref.shape());
    // Float accumulation error grows with the reduction length.
    const int64_t k = shape_size(c.w) / cout;
    const float tol = 2e-5f * std::max<float>(1.f, static_cast<float>(k) / 128.f);
    for (int64_t i = 0; i < ref.size(); ++i) {
        const float r = ref.data<float>()[i], f = fast.data<float>()[i];
        ASSERT_NEAR(f, r, tol * (1.f + std::fabs(r))) << "element " << i;
    }
}

const std::vector<Case>& gemm_cases() {
    static const std::vector<Case> cases = {
        {{1, 3, 7, 9}, {5, 3, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
        {{2, 4, 11, 6}, {7, 4, 1, 1}},            // pointwise, read in place
        {{1, 13, 9, 7}, {37, 13, 1, 1}, {2, 2}},  // strided pointwise
        {{1, 2, 13, 13}, {3, 2, 5, 2}, {2, 3}, {2, 0}, {1, 1}, {1, 2}},
        {{1, 3, 10, 7}, {4, 3, 3, 3}, {2, 2}, {0, 0}, {0, 0}, {2, 1}, "same_upper"},
        {{1, 5, 23, 21}, {67, 5, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
        {{1, 33, 15, 15}, {129, 33, 1, 1}},
        // Enough positions for the NCHW product: several K blocks, strides, a batch.
        {{1, 130, 12, 12}, {19, 130, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
        {{2, 6, 31, 29}, {21, 6, 3, 3}, {2, 2}, {1, 1}, {1, 1}},
        {{1, 3, 17, 13}, {2, 3, 1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}},
        // Stride-1 3x3 windows of at least 14x14 outputs run by Winograd: odd extents, several
        // 16-tile vectors per row, asymmetric padding.
        {{1, 7, 17, 30}, {13, 7, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
        {{2, 19, 33, 35}, {29, 19, 3, 3}, {1, 1}, {1, 1}, {0, 1}},
        {{1, 4, 16, 16}, {5, 4, 3, 3}, {1, 1}, {0, 0}, {0, 0}},
    };
    return cases;
}

const std::vector<Case>& depthwise_cases() {
    static const std::vector<Case> cases = {
        {{1, 7, 13, 11}, {7, 1, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}},
        {{2, 5, 17, 19}, {5, 1, 1, 3, 3}, {2, 2}, {1, 1}, {1, 1}},
        {{1, 9, 21, 37}, {9, 1, 1, 5, 5}, {1, 1}, {2, 2}, {2, 2}},
        {{1, 3, 20, 35}, {3, 1, 1, 5, 5}, {2, 2}, {2, 2}, {1, 2}},
        {{1, 4, 9, 9}, {4, 1, 1, 3, 3}, {2, 2}, {0, 0}, {0, 0}, {1, 1}, "same_upper"},
        {{1, 3, 11, 10}, {3, 1, 1, 3, 2}, {3, 1}, {1, 0}, {2, 1}, {2, 1}},  // scalar path
        {{1, 2, 4, 3}, {2, 1, 1, 3, 3}, {1, 1}, {1, 1}, {1, 1}},  // narrower than a vector
    };
    return cases;
}

}  // namespace

TEST(CpuFusedConvKernel, GemmPathMatchesReference) {
    for (const char* threads : {"1", "2"})
        for (const Case& c : gemm_cases()) {
            check(c, "none", false, threads);
            check(c, "relu", true, threads);
        }
}

TEST(CpuFusedConvKernel, DepthwisePathMatchesReference) {
    for (const char* threads : {"1", "2"})
        for (const Case& c : depthwise_cases()) {
            check(c, "none", false, threads);
            check(c, "clamp", true, threads, 0.0, 6.0);
        }
}

TEST(CpuFusedConvKernel, EveryActivation) {
    const Case& pw = gemm_cases()[1];
    const Case& dw = depthwise_cases()[0];
    const Case& wino = gemm_cases()[10];
    for (const Case* c : {&pw, &dw, &wino}) {
        check(*c, "relu", false, "2");
        check(*c, "clamp", false, "2", -0.5, 0.75);
        check(*c, "clamp", false, "2", 0.0, INFINITY);
        check(*c, "hswish", true, "2");
        check(*c, "hsigmoid", false, "2");
        check(*c, "hard_sigmoid", false, "2", 1.0 / 6, 0.5);
        check(*c, "sigmoid", true, "2");
    }
}

TEST(CpuFusedConvKernel, PlainDepthwiseGroupConvolution) {
    auto x = make_parameter(ElementType::f32, Shape{1, 6, 9, 8}, "x");
    auto w = make_constant(random_f32({6, 1, 1, 3, 3}, 2), "w");
    auto y = make_node("GroupConvolution", {x->output(0), w->output(0)},
                       {{"strides", Ints{2, 1}},
                        {"pads_begin", Ints{1, 1}},
                        {"pads_end", Ints{1, 1}},
                        {"dilations", Ints{1, 1}}});
    auto model =
        std::make_shared<Model>(OutputVector{y->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    auto compiled = std::make_shared<const cpu::CompiledModel>(model, AnyMap{});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    const Tensor input = random_f32({1, 6, 9, 8}, 1);
    cpu::InferRequest req(compiled);
    req.set_input(0, input);
    req.infer();
    const Tensor ref = evaluate_model(*model, {input})[0];
    for (int64_t i = 0; i < ref.size(); ++i)
        ASSERT_NEAR(req.output(0).data<float>()[i], ref.data<float>()[i], 1e-5f);
}

TEST(CpuFusedConvKernel, OtherGroupingsKeepTheReferenceKernel) {
    // Two input channels per group: no CPU kernel, the fused reference computes it.
    Case c{{1, 4, 6, 7}, {2, 3, 2, 3, 3}, {1, 1}, {1, 1}, {1, 1}};
    auto x = make_parameter(ElementType::f32, c.x, "x");
    auto y = make_node("FusedConvolution",
                       {x->output(0), make_constant(random_f32(c.w, 1))->output(0),
                        make_constant(random_f32({6}, 2))->output(0)},
                       attrs_of(c, "relu", 0, 0));
    EXPECT_EQ(y->output_shape(0).to_shape(), (Shape{1, 6, 6, 7}));
    auto model =
        std::make_shared<Model>(OutputVector{y->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    auto compiled = std::make_shared<const cpu::CompiledModel>(model, AnyMap{});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 0u);
    const Tensor input = random_f32(c.x, 3);
    cpu::InferRequest req(compiled);
    req.set_input(0, input);
    req.infer();
    const Tensor ref = evaluate_model(*model, {input})[0];
    for (int64_t i = 0; i < ref.size(); ++i) {
        EXPECT_GE(req.output(0).data<float>()[i], 0.f);
        ASSERT_EQ(req.output(0).data<float>()[i], ref.data<float>()[i]);
    }
}

TEST(CpuFusedConvKernel, WrongResidualShapeIsAnError) {
    Case c{{1, 2, 5, 5}, {3, 2, 1, 1}};
    auto x = make_parameter(ElementType::f32, PartialShape{1, 2, Dimension::dynamic(), 5}, "x");
    auto r = make_parameter(ElementType::f32, PartialShape{1, 3, Dimension::dynamic(), 5}, "r");
    auto y = make_node("FusedConvolution",
                       {x->output(0), make_constant(random_f32(c.w, 1))->output(0),
                        make_constant(random_f32({3}, 1))->output(0), r->output(0)},
                       attrs_of(c, "relu", 0, 0));
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x, r});
    auto compiled = std::make_shared<const cpu::CompiledModel>(model, AnyMap{});
    cpu::InferRequest req(compiled);
    req.set_input(0, random_f32({1, 2, 5, 5}, 1));
    req.set_input(1, random_f32({1, 3, 4, 5}, 1));
    EXPECT_THROW(req.infer(), Error);
}
