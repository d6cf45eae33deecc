// FusedConvolution (kiln1): shape inference, a hand-computed value, and bad inputs.
#include <gtest/gtest.h>

#include "kiln/model.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

using Ints = std::vector<int64_t>;

Attributes attrs(const std::string& act, double alpha = 0, double beta = 0) {
    return {{"strides", Ints{1, 1}},
            {"pads_begin", Ints{1, 1}},
            {"pads_end", Ints{1, 1}},
            {"dilations", Ints{1, 1}},
            {"activation", act},
            {"alpha", alpha},
            {"beta", beta}};
}

Output param(PartialShape s) { return make_parameter(ElementType::f32, std::move(s))->output(0); }

}  // namespace

TEST(FusedConvolutionOp, ShapeInference) {
    auto plain = make_node("FusedConvolution",
                           {param({1, 3, 8, 7}), param({5, 3, 3, 3}), param({5})}, attrs("relu"));
    EXPECT_EQ(plain->output_shape(0), (PartialShape{1, 5, 8, 7}));
    auto grouped =
        make_node("FusedConvolution",
                  {param({2, 4, 6, 6}), param({4, 1, 1, 3, 3}), param({4}), param({2, 4, 6, 6})},
                  attrs("clamp", 0, 6));
    EXPECT_EQ(grouped->output_shape(0), (PartialShape{2, 4, 6, 6}));
    auto dynamic = make_node("FusedConvolution",
                             {param({Dimension::dynamic(), 3, Dimension::dynamic(), 9}),
                              param({2, 3, 3, 3}), param({2})},
                             attrs("none"));
    EXPECT_EQ(to_string(dynamic->output_shape(0)), "[?,2,?,9]");
}

TEST(FusedConvolutionOp, ReferenceValue) {
    // One 3x3 all-ones filter on a 1x1 image padded by 1: the centre tap only.
    auto x = make_parameter(ElementType::f32, Shape{1, 1, 1, 1});
    auto r = make_parameter(ElementType::f32, Shape{1, 1, 1, 1});
    Tensor w(ElementType::f32, {1, 1, 3, 3});
    for (int i = 0; i < 9; ++i) w.data<float>()[i] = 1.f;
    auto y = make_node(
        "FusedConvolution",
        {x->output(0), make_constant(w)->output(0),
         make_constant(Tensor::from_vector(std::vector<float>{0.5f}, Shape{1}))->output(0),
         r->output(0)},
        attrs("clamp", 0, 6));
    Model m(y->outputs(), {x, r});
    auto run = [&](float xv, float rv) {
        return evaluate_model(m,
                              {Tensor::from_vector(std::vector<float>{xv}, Shape{1, 1, 1, 1}),
                               Tensor::from_vector(std::vector<float>{rv}, Shape{1, 1, 1, 1})})[0]
            .data<float>()[0];
    };
    EXPECT_FLOAT_EQ(run(2.f, 1.f), 3.5f);  // 2 + 0.5 + 1
    EXPECT_FLOAT_EQ(run(2.f, 9.f), 6.f);   // clamped above
    EXPECT_FLOAT_EQ(run(-4.f, 1.f), 0.f);  // clamped below
}

TEST(FusedConvolutionOp, BadInputs) {
    // Bias not one per output channel, residual of another shape, unknown activation, f16 data.
    EXPECT_THROW(make_node("FusedConvolution",
                           {param({1, 3, 8, 7}), param({5, 3, 3, 3}), param({4})}, attrs("relu")),
                 Error);
    EXPECT_THROW(
        make_node("FusedConvolution",
                  {param({1, 3, 8, 7}), param({5, 3, 3, 3}), param({5}), param({1, 5, 8, 8})},
                  attrs("relu")),
        Error);
    EXPECT_THROW(make_node("FusedConvolution",
                           {param({1, 3, 8, 7}), param({5, 3, 3, 3}), param({5})}, attrs("gelu")),
                 Error);
    EXPECT_THROW(make_node("FusedConvolution",
                           {make_parameter(ElementType::f16, Shape{1, 3, 8, 7})->output(0),
                            param({5, 3, 3, 3}), param({5})},
                           attrs("relu")),
                 Error);
}
