// Data-movement ops: shape inference with known and unknown shape inputs, reference results,
// and index validation.
#include <gtest/gtest.h>

#include "kiln/model.hpp"
#include "kiln/node.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

Output param(ElementType t, PartialShape s) { return make_parameter(t, std::move(s))->output(0); }

Output ints(std::vector<int64_t> v) {
    return make_constant(Tensor::from_vector(v, Shape{static_cast<int64_t>(v.size())}))->output(0);
}

Output scalar_i64(int64_t v) { return make_constant(Tensor::scalar(v))->output(0); }

// Evaluates `out` with parameter values given in creation order.
Tensor run(const Output& out, const std::vector<Output>& params, const TensorVector& inputs) {
    std::vector<std::shared_ptr<Node>> ps;
    for (const auto& p : params) ps.push_back(p.node);
    Model m({out}, ps);
    return evaluate_model(m, inputs).at(0);
}

template <class T>
std::vector<T> values(const Tensor& t) {
    return std::vector<T>(t.data<T>(), t.data<T>() + t.size());
}

Tensor iota_f32(Shape s) {
    Tensor t(ElementType::f32, s);
    for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = static_cast<float>(i);
    return t;
}

}  // namespace

TEST(MovementShape, ReshapeWithConstantTarget) {
    auto x = param(ElementType::f32, PartialShape({2, 3, 4}));
    auto r = make_op("Reshape", {x, ints({0, -1})}, {{"special_zero", true}});
    EXPECT_EQ(r.partial_shape(), PartialShape({2, 12}));
    auto r2 = make_op("Reshape", {x, ints({4, -1, 2})}, {{"special_zero", false}});
    EXPECT_EQ(r2.partial_shape(), PartialShape({4, 3, 2}));
    EXPECT_THROW(make_op("Reshape", {x, ints({5, -1})}, {{"special_zero", false}}), Error);
    EXPECT_THROW(make_op("Reshape", {x, ints({-1, -1})}, {{"special_zero", false}}), Error);
}

TEST(MovementShape, ReshapeWithUnknownTarget) {
    auto x = param(ElementType::f32, PartialShape({2, 3, 4}));
    auto target = param(ElementType::i64, PartialShape({3}));
    auto r = make_op("Reshape", {x, target}, {{"special_zero", false}});
    EXPECT_EQ(r.partial_shape(), PartialShape::dynamic(3));
    auto y = run(r, {x, target}, {iota_f32({2, 3, 4}), Tensor::from_vector<int64_t>({4, 6, 1})});
    EXPECT_EQ(y.shape(), (Shape{4, 6, 1}));
    EXPECT_EQ(y.data<float>()[23], 23.f);
}

TEST(MovementShape, DynamicDimsPropagate) {
    auto x = param(ElementType::f32, PartialShape({Dimension(), 3}));
    EXPECT_EQ(make_op("Unsqueeze", {x, ints({0, -1})}).partial_shape(),
              PartialShape({1, Dimension(), 3, 1}));
    EXPECT_EQ(make_op("Transpose", {x, ints({1, 0})}).partial_shape(), PartialShape({3, Dimension()}));
    auto c = make_op("Concat", {x, x}, {{"axis", int64_t{1}}});
    EXPECT_EQ(c.partial_shape(), PartialShape({Dimension(), 6}));
    auto s = make_op("ShapeOf", {x}, {{"output_type", std::string("i32")}});
    EXPECT_EQ(s.element_type(), ElementType::i32);
    EXPECT_EQ(s.partial_shape(), PartialShape({2}));
    auto sl = make_op("Slice", {x, ints({1}), ints({3}), ints({1}), ints({1})});
    EXPECT_EQ(sl.partial_shape(), PartialShape({Dimension(), 2}));
    EXPECT_THROW(make_op("Squeeze", {x, ints({1})}), Error);
}

TEST(MovementEval, TransposeAndSlice) {
    auto x = param(ElementType::f32, PartialShape({2, 3}));
    auto t = make_op("Transpose", {x, ints({1, 0})});
    EXPECT_EQ(values<float>(run(t, {x}, {iota_f32({2, 3})})),
              (std::vector<float>{0, 3, 1, 4, 2, 5}));
    auto s = make_op("Slice", {x, ints({-1, 2}), ints({INT64_MIN, 0}), ints({-1, -2}),
                               ints({0, 1})});
    EXPECT_EQ(s.partial_shape(), PartialShape({2, 1}));
    EXPECT_EQ(values<float>(run(s, {x}, {iota_f32({2, 3})})), (std::vector<float>{5, 2}));
}

TEST(MovementEval, GatherNegativeAndBatch) {
    auto x = param(ElementType::f32, PartialShape({2, 3}));
    auto idx = param(ElementType::i64, PartialShape({2, 2}));
    auto g = make_op("Gather", {x, idx, scalar_i64(1)}, {{"batch_dims", int64_t{1}}});
    EXPECT_EQ(g.partial_shape(), PartialShape({2, 2}));
    auto y = run(g, {x, idx}, {iota_f32({2, 3}), Tensor::from_vector<int64_t>({-1, 0, 1, 2}, {2, 2})});
    EXPECT_EQ(values<float>(y), (std::vector<float>{2, 0, 4, 5}));
    EXPECT_THROW(run(g, {x, idx}, {iota_f32({2, 3}), Tensor::from_vector<int64_t>({3, 0, 1, 2}, {2, 2})}),
                 Error);
}

TEST(MovementEval, StringsMoveByValue) {
    auto x = param(ElementType::string, PartialShape({3}));
    auto g = make_op("Gather", {x, ints({2, 0, 2}), scalar_i64(0)});
    Tensor in = Tensor::from_vector<std::string>({"a", "bb", "ccc"});
    EXPECT_EQ(values<std::string>(run(g, {x}, {in})),
              (std::vector<std::string>{"ccc", "a", "ccc"}));
    auto p = make_op("Pad", {x, ints({1}), ints({1})}, {{"pad_mode", std::string("edge")}});
    EXPECT_EQ(values<std::string>(run(p, {x}, {in})),
              (std::vector<std::string>{"a", "a", "bb", "ccc", "ccc"}));
}

TEST(MovementEval, PadModes) {
    auto x = param(ElementType::i32, PartialShape({3}));
    Tensor in = Tensor::from_vector<int32_t>({1, 2, 3});
    auto pad = [&](const std::string& mode, int64_t b, int64_t e) {
        auto p = make_op("Pad", {x, ints({b}), ints({e}), make_constant(Tensor::scalar<int32_t>(9))->output(0)},
                         {{"pad_mode", mode}});
        return values<int32_t>(run(p, {x}, {in}));
    };
    EXPECT_EQ(pad("constant", 2, -1), (std::vector<int32_t>{9, 9, 1, 2}));
    EXPECT_EQ(pad("reflect", 2, 2), (std::vector<int32_t>{3, 2, 1, 2, 3, 2, 1}));
    EXPECT_EQ(pad("symmetric", 2, 2), (std::vector<int32_t>{2, 1, 1, 2, 3, 3, 2}));
}

TEST(MovementEval, ScatterElementsReductionAndBounds) {
    auto x = param(ElementType::f32, PartialShape({1, 4}));
    auto idx = param(ElementType::i64, PartialShape({1, 3}));
    Tensor upd = Tensor::from_vector<float>({10, 20, 30}, {1, 3});
    auto s = make_op("ScatterElementsUpdate",
                     {x, idx, make_constant(upd)->output(0), scalar_i64(1)},
                     {{"reduction", std::string("sum")}, {"use_init_val", true}});
    auto y = run(s, {x, idx}, {iota_f32({1, 4}), Tensor::from_vector<int64_t>({1, 1, -1}, {1, 3})});
    EXPECT_EQ(values<float>(y), (std::vector<float>{0, 31, 2, 33}));
    EXPECT_THROW(run(s, {x, idx}, {iota_f32({1, 4}), Tensor::from_vector<int64_t>({4, 0, 0}, {1, 3})}),
                 Error);
}

TEST(MovementEval, ScatterNDAndGatherNDBounds) {
    auto x = param(ElementType::f32, PartialShape({2, 2}));
    auto idx = param(ElementType::i64, PartialShape({1, 2}));
    auto g = make_op("GatherND", {x, idx}, {{"batch_dims", int64_t{0}}});
    EXPECT_EQ(g.partial_shape(), PartialShape({1}));
    EXPECT_EQ(values<float>(run(g, {x, idx}, {iota_f32({2, 2}), Tensor::from_vector<int64_t>({1, 0}, {1, 2})})),
              (std::vector<float>{2}));
    EXPECT_THROW(run(g, {x, idx}, {iota_f32({2, 2}), Tensor::from_vector<int64_t>({2, 0}, {1, 2})}),
                 Error);
}

TEST(MovementEval, ValueDependentShapes) {
    auto r = make_op("Range", {scalar_i64(5), scalar_i64(-2), scalar_i64(-3)},
                     {{"output_type", std::string("i32")}});
    EXPECT_EQ(r.partial_shape(), PartialShape({3}));
    EXPECT_EQ(values<int32_t>(run(r, {}, {})), (std::vector<int32_t>{5, 2, -1}));

    auto x = param(ElementType::f32, PartialShape({2, 2}));
    auto nz = make_op("NonZero", {x}, {{"output_type", std::string("i64")}});
    EXPECT_EQ(nz.partial_shape(), PartialShape({2, Dimension()}));
    Tensor in = Tensor::from_vector<float>({0, 1, 2, 0}, {2, 2});
    EXPECT_EQ(values<int64_t>(run(nz, {x}, {in})), (std::vector<int64_t>{0, 1, 1, 0}));

    auto u = make_node("Unique", {make_constant(Tensor::from_vector<int64_t>({3, 1, 3, 2}))->output(0)},
                       {{"sorted", false}});
    EXPECT_EQ(u->output_shape(0), PartialShape({3}));
    auto ur = evaluate_model(Model({u->output(0), u->output(2), u->output(3)}, {}), {});
    EXPECT_EQ(values<int64_t>(ur[0]), (std::vector<int64_t>{3, 1, 2}));
    EXPECT_EQ(values<int64_t>(ur[1]), (std::vector<int64_t>{0, 1, 0, 2}));
    EXPECT_EQ(values<int64_t>(ur[2]), (std::vector<int64_t>{2, 1, 1}));
}

TEST(MovementEval, DepthToSpaceModes) {
    auto x = param(ElementType::f32, PartialShape({1, 4, 1, 1}));
    auto bf = make_op("DepthToSpace", {x}, {{"block_size", int64_t{2}}, {"mode", std::string("blocks_first")}});
    EXPECT_EQ(bf.partial_shape(), PartialShape({1, 1, 2, 2}));
    EXPECT_EQ(values<float>(run(bf, {x}, {iota_f32({1, 4, 1, 1})})), (std::vector<float>{0, 1, 2, 3}));
    auto back = make_op("SpaceToDepth", {bf}, {{"block_size", int64_t{2}}, {"mode", std::string("blocks_first")}});
    EXPECT_EQ(values<float>(run(back, {x}, {iota_f32({1, 4, 1, 1})})), (std::vector<float>{0, 1, 2, 3}));
}

TEST(MovementEval, StridedSliceMasks) {
    auto x = param(ElementType::f32, PartialShape({2, 3, 4}));
    auto ss = [&](std::vector<int64_t> b, std::vector<int64_t> e, std::vector<int64_t> s,
                  Attributes a) { return make_op("StridedSlice", {x, ints(b), ints(e), ints(s)}, a); };
    auto r = ss({0, 1}, {0, -1}, {1, 1},
                {{"begin_mask", std::vector<int64_t>{1, 0}}, {"end_mask", std::vector<int64_t>{1, 0}}});
    EXPECT_EQ(r.partial_shape(), PartialShape({2, 1, 4}));
    auto shrink = ss({0, 2, -1}, {0, 0, 0}, {1, 1, 1},
                     {{"begin_mask", std::vector<int64_t>{1}}, {"end_mask", std::vector<int64_t>{1}},
                      {"shrink_axis_mask", std::vector<int64_t>{0, 1, 1}}});
    EXPECT_EQ(shrink.partial_shape(), PartialShape({2}));
    EXPECT_EQ(values<float>(run(shrink, {x}, {iota_f32({2, 3, 4})})), (std::vector<float>{11, 23}));
    auto ell = ss({0, 0, 3}, {0, 0, 0}, {1, 1, -2},
                  {{"new_axis_mask", std::vector<int64_t>{1}},
                   {"ellipsis_mask", std::vector<int64_t>{0, 1}}});
    EXPECT_EQ(ell.partial_shape(), PartialShape({1, 2, 3, 2}));
    EXPECT_THROW(ss({0, 5}, {0, 0}, {1, 1}, {{"shrink_axis_mask", std::vector<int64_t>{0, 1}}}),
                 Error);
}

TEST(MovementShape, UnknownBoundsKeepUntouchedAxes) {
    auto x = param(ElementType::f32, PartialShape({2, 3, 4}));
    auto start = param(ElementType::i64, PartialShape({1}));
    auto s = make_op("Slice", {x, start, ints({10}), ints({1}), ints({1})});
    EXPECT_EQ(s.partial_shape(), PartialShape({2, Dimension(), 4}));
    auto axes = param(ElementType::i64, PartialShape({2}));
    EXPECT_EQ(make_op("Unsqueeze", {x, axes}).partial_shape(), PartialShape::dynamic(5));
    auto y = run(s, {x, start}, {iota_f32({2, 3, 4}), Tensor::from_vector<int64_t>({-1})});
    EXPECT_EQ(y.shape(), (Shape{2, 1, 4}));
}
