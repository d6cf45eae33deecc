#include <gtest/gtest.h>

#include <cmath>

#include "kiln/model.hpp"
#include "kiln/node.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

// Runs `type` over one f32 parameter (plus constant extra inputs) and returns its outputs.
TensorVector run_op(const std::string& type, const Tensor& x, OutputVector extra,
                    Attributes attrs) {
    auto p = make_parameter(x.element_type(), x.shape(), "x");
    OutputVector ins{p->output(0)};
    for (auto& e : extra) ins.push_back(e);
    auto n = make_node(type, ins, std::move(attrs));
    Model m(n->outputs(), {p});
    return evaluate_model(m, {x});
}

Output ints(std::vector<int64_t> v) {
    Shape s{static_cast<int64_t>(v.size())};
    return make_constant(Tensor::from_vector(v, s))->output(0);
}

std::vector<float> floats(const Tensor& t) {
    return std::vector<float>(t.data<float>(), t.data<float>() + t.size());
}

Tensor iota_f32(Shape s) {
    Tensor t(ElementType::f32, s);
    for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = static_cast<float>(i + 1);
    return t;
}

}  // namespace

TEST(ReductionShape, KeepDimsAndNegativeAxes) {
    auto p = make_parameter(ElementType::f32, PartialShape({2, Dimension(), 4}), "x");
    auto keep = make_node("ReduceSum", {p->output(0), ints({-1, 0})}, {{"keep_dims", true}});
    EXPECT_EQ(to_string(keep->output_shape(0)), "[1,?,1]");
    auto drop = make_node("ReduceMax", {p->output(0), ints({1})}, {{"keep_dims", false}});
    EXPECT_EQ(to_string(drop->output_shape(0)), "[2,4]");
    auto none = make_node("ReduceMean", {p->output(0), ints({})}, {{"keep_dims", false}});
    EXPECT_EQ(to_string(none->output_shape(0)), "[2,?,4]");
}

TEST(ReductionShape, BadAxisThrows) {
    auto p = make_parameter(ElementType::f32, PartialShape({2, 3}), "x");
    EXPECT_THROW(make_node("ReduceSum", {p->output(0), ints({2})}, {{"keep_dims", true}}), Error);
    EXPECT_THROW(make_node("Softmax", {p->output(0)}, {{"axis", int64_t{-3}}}), Error);
    EXPECT_THROW(make_node("TopK", {p->output(0), make_constant(Tensor::scalar<int64_t>(4))->output(0)},
                           {{"axis", int64_t{1}}, {"mode", std::string("max")}}),
                 Error);
    auto b = make_parameter(ElementType::f32, PartialShape({2, 3, 4}), "b");
    EXPECT_THROW(make_node("Det", {b->output(0)}), Error);
}

TEST(ReductionEval, SumMeanProdL2) {
    Tensor x = iota_f32({2, 3});  // [[1,2,3],[4,5,6]]
    EXPECT_EQ(floats(run_op("ReduceSum", x, {ints({1})}, {{"keep_dims", false}})[0]),
              (std::vector<float>{6, 15}));
    EXPECT_EQ(floats(run_op("ReduceMean", x, {ints({0})}, {{"keep_dims", true}})[0]),
              (std::vector<float>{2.5f, 3.5f, 4.5f}));
    EXPECT_EQ(floats(run_op("ReduceProd", x, {ints({0, 1})}, {})[0]), (std::vector<float>{720}));
    auto l2 = floats(run_op("ReduceL2", x, {ints({1})}, {})[0]);
    EXPECT_NEAR(l2[0], std::sqrt(14.f), 1e-5);
    EXPECT_EQ(floats(run_op("ReduceMin", x, {ints({})}, {})[0]), floats(x));  // empty axes: no-op
}

TEST(ReductionEval, IntegerSum) {
    Tensor x = Tensor::from_vector<int32_t>({1, -2, 3, 4}, {2, 2});
    Tensor y = run_op("ReduceSum", x, {ints({0})}, {})[0];
    EXPECT_EQ(y.data<int32_t>()[0], 4);
    EXPECT_EQ(y.data<int32_t>()[1], 2);
}

TEST(ReductionEval, SoftmaxArgMaxTopK) {
    Tensor x = Tensor::from_vector<float>({1, 3, 2, 3}, {1, 4});
    auto sm = floats(run_op("Softmax", x, {}, {{"axis", int64_t{1}}})[0]);
    float sum = 0;
    for (float v : sm) sum += v;
    EXPECT_NEAR(sum, 1.f, 1e-6);
    EXPECT_NEAR(sm[1], sm[3], 1e-7);

    Tensor am = run_op("ArgMax", x, {}, {{"axis", int64_t{1}}, {"keep_dims", false}})[0];
    EXPECT_EQ(am.shape(), Shape({1}));
    EXPECT_EQ(am.data<int64_t>()[0], 1);
    Tensor last = run_op("ArgMax", x, {}, {{"axis", int64_t{1}}, {"select_last_index", true}})[0];
    EXPECT_EQ(last.data<int64_t>()[0], 3);

    auto tk = run_op("TopK", x, {make_constant(Tensor::scalar<int64_t>(2))->output(0)},
                     {{"axis", int64_t{1}}, {"mode", std::string("max")},
                      {"sort", std::string("value")}, {"index_element_type", std::string("i64")}});
    EXPECT_EQ(floats(tk[0]), (std::vector<float>{3, 3}));
    EXPECT_EQ(tk[1].data<int64_t>()[0], 1);
    EXPECT_EQ(tk[1].data<int64_t>()[1], 3);
}

TEST(ReductionEval, CumSumEinsumDet) {
    Tensor x = iota_f32({4});
    auto axis = make_constant(Tensor::scalar<int64_t>(0))->output(0);
    EXPECT_EQ(floats(run_op("CumSum", x, {axis}, {})[0]), (std::vector<float>{1, 3, 6, 10}));
    EXPECT_EQ(floats(run_op("CumSum", x, {axis}, {{"exclusive", true}, {"reverse", true}})[0]),
              (std::vector<float>{9, 7, 4, 0}));

    Tensor m = iota_f32({2, 2});  // [[1,2],[3,4]]
    EXPECT_EQ(floats(run_op("Einsum", m, {}, {{"equation", std::string("ij->ji")}})[0]),
              (std::vector<float>{1, 3, 2, 4}));
    EXPECT_EQ(floats(run_op("Einsum", m, {}, {{"equation", std::string("ii")}})[0]),
              (std::vector<float>{5}));
    EXPECT_NEAR(floats(run_op("Det", m, {}, {})[0])[0], -2.f, 1e-5);
}
