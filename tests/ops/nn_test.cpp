// nn family: shape inference and reference results for small hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>

#include "kiln/model.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

using Ints = std::vector<int64_t>;

// Output shapes of a node built on parameters of the given types and shapes.
std::vector<PartialShape> infer(const std::string& type, std::vector<PartialShape> shapes,
                                Attributes attrs, ElementType et = ElementType::f32) {
    OutputVector ins;
    for (auto& s : shapes) ins.push_back(make_parameter(et, s)->output(0));
    auto n = make_node(type, ins, std::move(attrs));
    std::vector<PartialShape> out;
    for (size_t i = 0; i < n->output_count(); ++i) out.push_back(n->output_shape(i));
    return out;
}

PartialShape infer1(const std::string& type, std::vector<PartialShape> shapes, Attributes attrs) {
    return infer(type, std::move(shapes), std::move(attrs)).at(0);
}

// Runs one node on the given inputs (as model parameters).
TensorVector run(const std::string& type, const TensorVector& inputs, Attributes attrs) {
    std::vector<std::shared_ptr<Node>> params;
    OutputVector ins;
    for (const auto& t : inputs) {
        params.push_back(make_parameter(t.element_type(), t.shape()));
        ins.push_back(params.back()->output(0));
    }
    auto n = make_node(type, ins, std::move(attrs));
    Model m(n->outputs(), params);
    return evaluate_model(m, inputs);
}

Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector(v, std::move(s)); }
Tensor i64(Ints v) { return Tensor::from_vector(v, Shape{static_cast<int64_t>(v.size())}); }

void expect_values(const Tensor& t, const std::vector<double>& expected) {
    ASSERT_EQ(t.size(), static_cast<int64_t>(expected.size())) << describe(t);
    for (size_t i = 0; i < expected.size(); ++i)
        EXPECT_NEAR(t.value_as_double(static_cast<int64_t>(i)), expected[i], 1e-5) << "at " << i;
}

Attributes conv_attrs(Ints strides, Ints pads_begin, Ints pads_end, Ints dilations,
                      std::string auto_pad = "explicit") {
    return {{"strides", strides},
            {"pads_begin", pads_begin},
            {"pads_end", pads_end},
            {"dilations", dilations},
            {"auto_pad", auto_pad}};
}

}  // namespace

TEST(NnMatMul, ShapeInference) {
    EXPECT_EQ(infer1("MatMul", {Shape{2, 3, 4}, Shape{4, 5}}, {}), PartialShape(Shape{2, 3, 5}));
    EXPECT_EQ(infer1("MatMul", {Shape{4}, Shape{4, 5}}, {}), PartialShape(Shape{5}));
    EXPECT_EQ(infer1("MatMul", {Shape{3, 4}, Shape{4}}, {}), PartialShape(Shape{3}));
    EXPECT_EQ(infer1("MatMul", {Shape{4}, Shape{4}}, {}), PartialShape(Shape{}));
    EXPECT_EQ(infer1("MatMul", {Shape{4, 3}, Shape{5, 4}},
                     {{"transpose_a", true}, {"transpose_b", true}}),
              PartialShape(Shape{3, 5}));
    EXPECT_EQ(infer1("MatMul", {Shape{2, 1, 3, 4}, Shape{5, 4, 6}}, {}),
              PartialShape(Shape{2, 5, 3, 6}));
    EXPECT_EQ(infer1("MatMul", {PartialShape{Dimension(), 3, 4}, Shape{4, 2}}, {}),
              (PartialShape{Dimension(), 3, 2}));
    EXPECT_THROW(infer1("MatMul", {Shape{3, 4}, Shape{5, 2}}, {}), Error);
    EXPECT_THROW(infer1("MatMul", {Shape{2, 3, 4}, Shape{3, 4, 2}}, {}), Error);
    EXPECT_THROW(infer1("MatMul", {Shape{}, Shape{4}}, {}), Error);
}

TEST(NnMatMul, Values) {
    auto r = run("MatMul", {f32({1, 2, 3, 4}, {2, 2}), f32({5, 6, 7, 8}, {2, 2})}, {});
    expect_values(r[0], {19, 22, 43, 50});
    r = run("MatMul", {f32({1, 2, 3, 4}, {2, 2}), f32({5, 6, 7, 8}, {2, 2})},
            {{"transpose_b", true}});
    expect_values(r[0], {17, 23, 39, 53});
    // Integers, with a broadcast batch.
    r = run("MatMul",
            {Tensor::from_vector(std::vector<int32_t>{1, 2, 3, 4}, {2, 1, 2}),
             Tensor::from_vector(std::vector<int32_t>{1, 0, 0, 1}, {2, 2})},
            {});
    EXPECT_EQ(r[0].element_type(), ElementType::i32);
    EXPECT_EQ(r[0].shape(), (Shape{2, 1, 2}));
    expect_values(r[0], {1, 2, 3, 4});
    r = run("MatMul", {f32({1, 2}, {2}), f32({3, 4}, {2})}, {});
    expect_values(r[0], {11});
}

TEST(NnConvolution, ShapeInference) {
    auto a = conv_attrs({2, 2}, {1, 1}, {1, 1}, {1, 1});
    EXPECT_EQ(infer1("Convolution", {Shape{1, 3, 7, 7}, Shape{8, 3, 3, 3}}, a),
              PartialShape(Shape{1, 8, 4, 4}));
    a = conv_attrs({2, 2}, {0, 0}, {0, 0}, {1, 1}, "same_upper");
    EXPECT_EQ(infer1("Convolution", {Shape{1, 3, 5, 5}, Shape{8, 3, 3, 3}}, a),
              PartialShape(Shape{1, 8, 3, 3}));
    a = conv_attrs({1}, {0}, {0}, {2});
    EXPECT_EQ(infer1("Convolution", {Shape{2, 1, 10}, Shape{4, 1, 3}}, a),
              PartialShape(Shape{2, 4, 6}));
    a = conv_attrs({1, 1}, {0, 0}, {0, 0}, {1, 1});
    EXPECT_EQ(infer1("Convolution", {PartialShape{1, 3, Dimension(), 5}, Shape{8, 3, 3, 3}}, a),
              (PartialShape{1, 8, Dimension(), 3}));
    EXPECT_EQ(infer1("GroupConvolution", {Shape{1, 4, 5, 5}, Shape{2, 3, 2, 3, 3}}, a),
              PartialShape(Shape{1, 6, 3, 3}));
    // Channel mismatch, kernel larger than the input, wrong filter rank, bad strides.
    EXPECT_THROW(infer1("Convolution", {Shape{1, 3, 5, 5}, Shape{8, 2, 3, 3}}, a), Error);
    EXPECT_THROW(infer1("Convolution", {Shape{1, 3, 2, 2}, Shape{8, 3, 3, 3}}, a), Error);
    EXPECT_THROW(infer1("Convolution", {Shape{1, 3, 5, 5}, Shape{8, 3, 3}}, a), Error);
    EXPECT_THROW(infer1("GroupConvolution", {Shape{1, 4, 5, 5}, Shape{2, 3, 3, 3, 3}}, a), Error);
    EXPECT_THROW(infer1("Convolution", {Shape{1, 3, 5, 5}, Shape{8, 3, 3, 3}},
                        conv_attrs({0, 1}, {0, 0}, {0, 0}, {1, 1})),
                 Error);
}

TEST(NnConvolution, Values) {
    const Tensor x = f32({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
    auto r = run("Convolution", {x, f32({1, 1, 1, 1}, {1, 1, 2, 2})},
                 conv_attrs({1, 1}, {0, 0}, {0, 0}, {1, 1}));
    expect_values(r[0], {12, 16, 24, 28});
    // Padding 1 on every side with stride 2: corners of the padded window sums.
    r = run("Convolution", {x, f32({1, 1, 1, 1}, {1, 1, 2, 2})},
            conv_attrs({2, 2}, {1, 1}, {1, 1}, {1, 1}));
    expect_values(r[0], {1, 5, 11, 28});
    // Dilation 2 picks the four corners.
    r = run("Convolution", {x, f32({1, 1, 1, 1}, {1, 1, 2, 2})},
            conv_attrs({1, 1}, {0, 0}, {0, 0}, {2, 2}));
    expect_values(r[0], {20});
    // Unsigned 8-bit data accumulates without overflow into the (wrapping) output type.
    r = run("Convolution",
            {Tensor::from_vector(std::vector<uint8_t>{1, 2, 3}, {1, 1, 3}),
             Tensor::from_vector(std::vector<uint8_t>{2, 1}, {1, 1, 2})},
            conv_attrs({1}, {0}, {0}, {1}));
    expect_values(r[0], {4, 7});
    // Two groups of one channel each.
    r = run("GroupConvolution",
            {f32({1, 2, 3, 10, 20, 30}, {1, 2, 3}), f32({1, 1, 2, 0}, {2, 1, 1, 2})},
            conv_attrs({1}, {0}, {0}, {1}));
    expect_values(r[0], {3, 5, 20, 40});
}

TEST(NnConvolutionBackpropData, ShapesAndValues) {
    const Attributes a = conv_attrs({1, 1}, {0, 0}, {0, 0}, {1, 1});
    EXPECT_EQ(infer1("ConvolutionBackpropData", {Shape{1, 2, 3, 3}, Shape{2, 5, 3, 3}}, a),
              PartialShape(Shape{1, 5, 5, 5}));
    EXPECT_THROW(infer1("ConvolutionBackpropData", {Shape{1, 3, 3, 3}, Shape{2, 5, 3, 3}}, a),
                 Error);
    auto r = run("ConvolutionBackpropData",
                 {f32({1, 2, 3, 4}, {1, 1, 2, 2}), f32({1, 1, 1, 1}, {1, 1, 2, 2})}, a);
    EXPECT_EQ(r[0].shape(), (Shape{1, 1, 3, 3}));
    expect_values(r[0], {1, 3, 2, 4, 10, 6, 3, 7, 4});
    // Stride 2 with output_padding 1 and pads_begin 1 (1-D).
    Attributes b = conv_attrs({2}, {1}, {0}, {1});
    b.set("output_padding", Ints{1});
    r = run("ConvolutionBackpropData", {f32({1, 2}, {1, 1, 2}), f32({1, 10}, {1, 1, 2})}, b);
    // Full output [1, 10, 2, 20] plus one padded element, minus the first one.
    expect_values(r[0], {10, 2, 20, 0});
    // An output_shape input deduces the pads.
    r = run("ConvolutionBackpropData",
            {f32({1, 2}, {1, 1, 2}), f32({1, 10}, {1, 1, 2}), i64({2})},
            conv_attrs({2}, {0}, {0}, {1}, "same_upper"));
    expect_values(r[0], {10, 2});
}

TEST(NnPool, ShapeInference) {
    Attributes a{{"kernel", Ints{2, 2}}, {"strides", Ints{2, 2}}, {"pads_begin", Ints{0, 0}},
                 {"pads_end", Ints{0, 0}}};
    auto s = infer("MaxPool", {Shape{1, 3, 5, 5}}, a);
    EXPECT_EQ(s[0], PartialShape(Shape{1, 3, 2, 2}));
    EXPECT_EQ(s[1], PartialShape(Shape{1, 3, 2, 2}));
    a.set("rounding_type", std::string("ceil"));
    EXPECT_EQ(infer1("MaxPool", {Shape{1, 3, 5, 5}}, a), PartialShape(Shape{1, 3, 3, 3}));
    EXPECT_EQ(infer1("AvgPool", {Shape{1, 3, 5, 5}}, a), PartialShape(Shape{1, 3, 3, 3}));
    a.set("auto_pad", std::string("same_lower"));
    a.set("strides", Ints{1, 1});
    EXPECT_EQ(infer1("AvgPool", {Shape{1, 3, 5, 5}}, a), PartialShape(Shape{1, 3, 5, 5}));
    EXPECT_THROW(infer1("MaxPool", {Shape{1, 3, 5}}, a), Error);  // rank mismatch
    Attributes big{{"kernel", Ints{6}}};
    EXPECT_THROW(infer1("MaxPool", {Shape{1, 1, 5}}, big), Error);
    EXPECT_THROW(infer1("MaxPool", {Shape{1, 1, 5}}, {}), Error);  // no kernel
}

TEST(NnPool, MaxPoolValuesAndIndices) {
    std::vector<float> v(16);
    for (int i = 0; i < 16; ++i) v[i] = static_cast<float>(i + 1);
    Attributes a{{"kernel", Ints{2, 2}}, {"strides", Ints{2, 2}}};
    auto r = run("MaxPool", {f32(v, {1, 1, 4, 4})}, a);
    expect_values(r[0], {6, 8, 14, 16});
    EXPECT_EQ(r[1].element_type(), ElementType::i64);
    expect_values(r[1], {5, 7, 13, 15});
    // Padding never wins, even against negative values.
    Attributes p{{"kernel", Ints{3}}, {"pads_begin", Ints{1}}, {"pads_end", Ints{1}}};
    r = run("MaxPool", {f32({-3, -1, -2}, {1, 1, 3})}, p);
    expect_values(r[0], {-1, -1, -1});
    expect_values(r[1], {1, 1, 1});
}

TEST(NnPool, AvgPoolExcludePad) {
    const Tensor x = f32({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
    Attributes a{{"kernel", Ints{2, 2}},
                 {"strides", Ints{2, 2}},
                 {"pads_begin", Ints{1, 1}},
                 {"pads_end", Ints{1, 1}},
                 {"exclude-pad", true}};
    expect_values(run("AvgPool", {x}, a)[0], {1, 2.5, 5.5, 7});
    a.set("exclude-pad", false);
    expect_values(run("AvgPool", {x}, a)[0], {0.25, 1.25, 2.75, 7});
}

TEST(NnNorm, BatchNormInference) {
    auto r = run("BatchNormInference",
                 {f32({1, 2, 3, 4}, {1, 2, 2}), f32({2, 1}, {2}), f32({0, 1}, {2}),
                  f32({1, 0}, {2}), f32({4, 1}, {2})},
                 {{"epsilon", 0.0}});
    // Channel 0: (x - 1) / 2 * 2; channel 1: x + 1.
    expect_values(r[0], {0, 1, 4, 5});
    EXPECT_THROW(infer1("BatchNormInference",
                        {Shape{1, 2, 2}, Shape{3}, Shape{2}, Shape{2}, Shape{2}}, {}),
                 Error);
}

TEST(NnNorm, MVN) {
    const Tensor x = f32({1, 2, 3, 4}, {1, 4});
    auto r = run("MVN", {x, i64({1})}, {{"normalize_variance", false}, {"eps", 0.0}});
    expect_values(r[0], {-1.5, -0.5, 0.5, 1.5});
    r = run("MVN", {x, i64({-1})},
            {{"normalize_variance", true}, {"eps", 0.0}, {"eps_mode", std::string("inside_sqrt")}});
    const double sd = std::sqrt(1.25);
    expect_values(r[0], {-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd});
    EXPECT_THROW(run("MVN", {x, i64({2})}, {}), Error);
}

TEST(NnNorm, LRN) {
    auto r = run("LRN", {f32({1, 2, 3}, {1, 3, 1, 1}), i64({1})},
                 {{"alpha", 3.0}, {"beta", 1.0}, {"bias", 1.0}, {"size", int64_t{3}}});
    expect_values(r[0], {1.0 / 6, 2.0 / 15, 3.0 / 14});
}
