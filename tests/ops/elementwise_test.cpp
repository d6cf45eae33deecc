#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "kiln/model.hpp"
#include "kiln/node.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

const Attributes kNumpy{{"auto_broadcast", std::string("numpy")}};

// Runs a single op over parameters holding the given tensors; returns its first output.
Tensor run_op(const std::string& type, const std::vector<Tensor>& ins, Attributes attrs = {}) {
    std::vector<std::shared_ptr<Node>> params;
    OutputVector outs;
    for (const auto& t : ins) {
        params.push_back(make_parameter(t.element_type(), PartialShape(t.shape())));
        outs.push_back(params.back()->output(0));
    }
    Output y = make_op(type, outs, std::move(attrs));
    Model m({y}, params);
    return evaluate_model(m, ins).at(0);
}

template <class T>
std::vector<T> values(const Tensor& t) {
    return std::vector<T>(t.data<T>(), t.data<T>() + t.size());
}

}  // namespace

TEST(ElementwiseShape, BroadcastsNumpyStyle) {
    auto a = make_parameter(ElementType::f32, PartialShape({2, 1, 4}));
    auto b = make_parameter(ElementType::f32, PartialShape({Dimension(), 3, 1}));
    Output y = make_op("Add", {a->output(0), b->output(0)}, kNumpy);
    EXPECT_EQ(y.element_type(), ElementType::f32);
    EXPECT_EQ(to_string(y.partial_shape()), "[2,3,4]");

    Output c = make_op("Less", {a->output(0), b->output(0)}, kNumpy);
    EXPECT_EQ(c.element_type(), ElementType::boolean);
}

TEST(ElementwiseShape, RejectsBadInputs) {
    auto a = make_parameter(ElementType::f32, PartialShape({2, 3}));
    auto b = make_parameter(ElementType::f32, PartialShape({4}));
    auto i = make_parameter(ElementType::i32, PartialShape({2, 3}));
    EXPECT_THROW(make_op("Multiply", {a->output(0), b->output(0)}, kNumpy), Error);
    EXPECT_THROW(make_op("Add", {a->output(0), i->output(0)}, kNumpy), Error);
    EXPECT_THROW(make_op("LogicalAnd", {a->output(0), a->output(0)}, kNumpy), Error);
    EXPECT_THROW(make_op("Select", {a->output(0), a->output(0), a->output(0)}, kNumpy), Error);
}

TEST(ElementwiseShape, SelectBroadcastsAllThree) {
    auto c = make_parameter(ElementType::boolean, PartialShape({3, 1}));
    auto x = make_parameter(ElementType::i64, PartialShape({1, 4}));
    auto y = make_parameter(ElementType::i64, PartialShape({}));
    Output s = make_op("Select", {c->output(0), x->output(0), y->output(0)}, kNumpy);
    EXPECT_EQ(s.element_type(), ElementType::i64);
    EXPECT_EQ(to_string(s.partial_shape()), "[3,4]");
}

TEST(ElementwiseEval, ArithmeticWithBroadcast) {
    Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor b = Tensor::from_vector<float>({10, 20, 30}, {3});
    EXPECT_EQ(values<float>(run_op("Add", {a, b}, kNumpy)),
              (std::vector<float>{11, 22, 33, 14, 25, 36}));
    EXPECT_EQ(values<float>(run_op("Subtract", {b, a}, kNumpy)),
              (std::vector<float>{9, 18, 27, 6, 15, 24}));
    EXPECT_EQ(values<float>(run_op("SquaredDifference", {a, b}, kNumpy))[0], 81.f);
}

TEST(ElementwiseEval, IntegerDivisionAndModulo) {
    Tensor a = Tensor::from_vector<int32_t>({7, -7, 7, -7});
    Tensor b = Tensor::from_vector<int32_t>({2, 2, -2, -2});
    Attributes trunc = kNumpy;
    trunc.set("pythondiv", false);
    EXPECT_EQ(values<int32_t>(run_op("Divide", {a, b}, trunc)),
              (std::vector<int32_t>{3, -3, -3, 3}));
    EXPECT_EQ(values<int32_t>(run_op("Divide", {a, b}, kNumpy)),
              (std::vector<int32_t>{3, -4, -4, 3}));
    EXPECT_EQ(values<int32_t>(run_op("Mod", {a, b}, kNumpy)), (std::vector<int32_t>{1, -1, 1, -1}));
    EXPECT_EQ(values<int32_t>(run_op("FloorMod", {a, b}, kNumpy)),
              (std::vector<int32_t>{1, 1, -1, -1}));
    // The most negative value divided by -1 wraps instead of overflowing.
    Tensor m = Tensor::from_vector<int32_t>({std::numeric_limits<int32_t>::min()});
    Tensor neg1 = Tensor::from_vector<int32_t>({-1});
    EXPECT_EQ(values<int32_t>(run_op("Divide", {m, neg1}, kNumpy))[0],
              std::numeric_limits<int32_t>::min());
}

TEST(ElementwiseEval, IntegerDivisionByZeroThrows) {
    Tensor a = Tensor::from_vector<int64_t>({1, 2});
    Tensor z = Tensor::from_vector<int64_t>({1, 0});
    EXPECT_THROW(run_op("Divide", {a, z}, kNumpy), Error);
    EXPECT_THROW(run_op("Mod", {a, z}, kNumpy), Error);
    EXPECT_THROW(run_op("FloorMod", {a, z}, kNumpy), Error);
    // Floating-point division by zero is IEEE-defined.
    Tensor f = run_op("Divide", {Tensor::from_vector<float>({1}), Tensor::from_vector<float>({0})},
                      kNumpy);
    EXPECT_TRUE(std::isinf(f.data<float>()[0]));
}

TEST(ElementwiseEval, ComparisonsAndSelect) {
    Tensor a = Tensor::from_vector<float>({1, 5, 3});
    Tensor b = Tensor::from_vector<float>({3});
    Tensor lt = run_op("Less", {a, b}, kNumpy);
    EXPECT_EQ(values<bool>(lt), (std::vector<bool>{true, false, false}));
    EXPECT_EQ(values<bool>(run_op("Equal", {a, b}, kNumpy)), (std::vector<bool>{false, false, true}));
    Tensor sel = run_op("Select", {lt, a, Tensor::from_vector<float>({0})}, kNumpy);
    EXPECT_EQ(values<float>(sel), (std::vector<float>{1, 0, 0}));
}

TEST(ElementwiseEval, UnaryOps) {
    Tensor x = Tensor::from_vector<float>({-2.5f, -0.5f, 0.5f, 1.5f});
    EXPECT_EQ(values<float>(run_op("Relu", {x})), (std::vector<float>{0, 0, 0.5f, 1.5f}));
    EXPECT_EQ(values<float>(run_op("Round", {x}, {{"mode", std::string("half_to_even")}})),
              (std::vector<float>{-2, -0, 0, 2}));
    EXPECT_EQ(values<float>(run_op("Round", {x}, {{"mode", std::string("half_away_from_zero")}})),
              (std::vector<float>{-3, -1, 1, 2}));
    EXPECT_EQ(values<float>(run_op("Clamp", {x}, {{"min", double{-1}}, {"max", double{1}}})),
              (std::vector<float>{-1, -0.5f, 0.5f, 1}));
    Tensor s = run_op("Sigmoid", {Tensor::from_vector<float>({0})});
    EXPECT_FLOAT_EQ(s.data<float>()[0], 0.5f);
    Tensor e = run_op("Exp", {Tensor::from_vector<double>({1})});
    EXPECT_DOUBLE_EQ(e.data<double>()[0], std::exp(1.0));
    Tensor n = run_op("Negative", {Tensor::from_vector<int8_t>({-128, 5})});
    EXPECT_EQ(values<int8_t>(n), (std::vector<int8_t>{-128, -5}));
}

TEST(ElementwiseEval, ConvertSaturatesAndFormatsStrings) {
    Tensor f = Tensor::from_vector<float>({1.9f, -1.9f, NAN, 1e20f});
    Tensor i = run_op("Convert", {f}, {{"destination_type", std::string("i32")}});
    EXPECT_EQ(values<int32_t>(i),
              (std::vector<int32_t>{1, -1, 0, std::numeric_limits<int32_t>::max()}));
    Tensor s = run_op("Convert", {Tensor::from_vector<float>({0.5f, 2.f})},
                      {{"destination_type", std::string("string")}});
    EXPECT_EQ(s.data<std::string>()[0], "0.5");
    EXPECT_EQ(s.data<std::string>()[1], "2.0");
    Tensor back = run_op("Convert", {s}, {{"destination_type", std::string("f32")}});
    EXPECT_EQ(values<float>(back), (std::vector<float>{0.5f, 2.f}));
    Tensor h = run_op("Convert", {Tensor::from_vector<float>({1.5f})},
                      {{"destination_type", std::string("f16")}});
    EXPECT_EQ(static_cast<float>(h.data<float16>()[0]), 1.5f);
}

TEST(ElementwiseEval, PReluPerChannelAndShifts) {
    Tensor x = Tensor::from_vector<float>({-1, -1, 2, -4}, {1, 2, 2});
    Tensor slope = Tensor::from_vector<float>({0.5f, 0.25f});
    // A 1-D slope matching axis 1 applies per channel.
    EXPECT_EQ(values<float>(run_op("PRelu", {x.reshaped({2, 2, 1}), slope})),
              (std::vector<float>{-0.5f, -0.25f, 2, -1}));
    Tensor a = Tensor::from_vector<uint8_t>({1, 255, 16});
    Tensor b = Tensor::from_vector<uint8_t>({1, 9, 2});
    EXPECT_EQ(values<uint8_t>(run_op("BitwiseLeftShift", {a, b}, kNumpy)),
              (std::vector<uint8_t>{2, 0, 64}));
    EXPECT_EQ(values<uint8_t>(run_op("BitwiseRightShift", {a, b}, kNumpy)),
              (std::vector<uint8_t>{0, 0, 4}));
}
