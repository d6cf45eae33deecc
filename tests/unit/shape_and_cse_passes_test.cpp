// FoldShapeOf, EliminateCommonSubexpressions and Model::reshape.
#include <gtest/gtest.h>

#include "core/op_def.hpp"
#include "ops/reference_executor.hpp"
#include "transforms/common_subexpressions.hpp"
#include "transforms/constant_folding.hpp"
#include "transforms/fold_shape_of.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::count_type;

namespace {

Output i64s(std::vector<int64_t> v) {
    const auto n = static_cast<int64_t>(v.size());
    return make_constant(Tensor::from_vector<int64_t>(std::move(v), Shape{n}), "")->output(0);
}

Output i64_scalar(int64_t v) {
    return make_constant(Tensor::from_vector<int64_t>({v}, Shape{}), "")->output(0);
}

// y = Reshape(x, Concat(Gather(ShapeOf(x), [0]), [-1])): the flatten torch exports, keeping the
// batch dynamic.
std::shared_ptr<Model> flatten_model(const PartialShape& x_shape) {
    auto x = make_parameter(ElementType::f32, x_shape, "x");
    auto shape = make_op("ShapeOf", {x->output(0)});
    auto batch = make_op("Gather", {shape, i64s({0}), i64_scalar(0)});
    auto target = make_op("Concat", {batch, i64s({-1})}, {{"axis", int64_t{0}}});
    auto y = make_op("Reshape", {x->output(0), target}, {{"special_zero", false}});
    return std::make_shared<Model>(OutputVector{y}, std::vector<std::shared_ptr<Node>>{x});
}

Tensor iota(Shape s) {
    Tensor t(ElementType::f32, std::move(s));
    for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = static_cast<float>(i);
    return t;
}

}  // namespace

TEST(FoldShapeOf, StaticShapeBecomesAConstantAndChainsFold) {
    auto m = flatten_model(PartialShape{2, 3, 4});
    EXPECT_TRUE(FoldShapeOf().run(*m));
    ConstantFolding().run(*m);
    EXPECT_EQ(count_type(*m, "ShapeOf"), 0u);
    EXPECT_EQ(count_type(*m, "Concat"), 0u);
    const Tensor y = evaluate_model(*m, {iota({2, 3, 4})})[0];
    EXPECT_EQ(y.shape(), (Shape{2, 12}));
    EXPECT_EQ(y.data<float>()[23], 23.f);
}

TEST(FoldShapeOf, StaticDimensionsOfADynamicShapeFold) {
    // Batch dynamic: Gather of dimension 0 must stay, dimension 2 folds.
    auto x = make_parameter(ElementType::f32, PartialShape{Dimension::dynamic(), 3, 7}, "x");
    auto shape = make_op("ShapeOf", {x->output(0)});
    auto batch = make_op("Gather", {shape, i64_scalar(0), i64_scalar(0)});
    auto last = make_op("Gather", {shape, i64_scalar(-1), i64_scalar(0)});
    Model m(OutputVector{batch, last}, {x});
    EXPECT_TRUE(FoldShapeOf().run(m));
    EXPECT_EQ(count_type(m, "ShapeOf"), 1u);
    EXPECT_EQ(count_type(m, "Gather"), 1u);
    ASSERT_EQ(m.outputs()[1].node->type(), "Const");
    const Tensor& v = m.outputs()[1].node->value();
    EXPECT_EQ(v.shape(), Shape{});
    EXPECT_EQ(v.data<int64_t>()[0], 7);
    const auto out = evaluate_model(m, {iota({5, 3, 7})});
    EXPECT_EQ(out[0].data<int64_t>()[0], 5);
}

TEST(FoldShapeOf, DynamicShapesAreLeftAlone) {
    auto m = flatten_model(PartialShape{Dimension::dynamic(), 3, 4});
    EXPECT_FALSE(FoldShapeOf().run(*m));
    EXPECT_EQ(count_type(*m, "ShapeOf"), 1u);
}

TEST(ModelReshape, StaticBatchLetsShapeChainsFold) {
    auto m = flatten_model(PartialShape{Dimension::dynamic(), 3, 4});
    m->reshape(PartialShape{5, 3, 4});
    EXPECT_EQ(m->inputs()[0].partial_shape(), (PartialShape{5, 3, 4}));
    FoldShapeOf().run(*m);
    ConstantFolding().run(*m);
    m->infer_types();  // the Reshape now reads a constant target
    EXPECT_EQ(count_type(*m, "ShapeOf"), 0u);
    EXPECT_EQ(m->outputs()[0].partial_shape(), (PartialShape{5, 12}));
    EXPECT_EQ(evaluate_model(*m, {iota({5, 3, 4})})[0].shape(), (Shape{5, 12}));
}

TEST(ModelReshape, RejectedShapeKeepsTheOldOneAndNamesTheInput) {
    auto x = make_parameter(ElementType::f32, PartialShape{Dimension::dynamic(), 4}, "x");
    x->output_info(0).names.insert("x");
    auto w = make_constant(Tensor(ElementType::f32, Shape{4, 2}), "w");
    Model m(OutputVector{make_op("MatMul", {x->output(0), w->output(0)})}, {x});
    try {
        m.reshape({{"x", PartialShape{3, 5}}});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("x[3,5]"), std::string::npos) << e.what();
    }
    EXPECT_EQ(m.inputs()[0].partial_shape(), (PartialShape{Dimension::dynamic(), 4}));
    EXPECT_THROW(m.reshape({{"nope", PartialShape{3, 4}}}), Error);
}

TEST(EliminateCommonSubexpressions, MergesEqualNodesAndConstants) {
    auto x = make_parameter(ElementType::f32, Shape{4}, "x");
    auto c1 = make_constant(Tensor::from_vector<float>({2.f}, Shape{}), "c1");
    auto c2 = make_constant(Tensor::from_vector<float>({2.f}, Shape{}), "c2");
    auto c3 = make_constant(Tensor::from_vector<float>({3.f}, Shape{}), "c3");
    auto a = make_op("Multiply", {x->output(0), c1->output(0)});
    auto b = make_op("Multiply", {x->output(0), c2->output(0)});  // same as a once c2 == c1
    auto c = make_op("Multiply", {x->output(0), c3->output(0)});  // different constant
    auto sum = make_op("Add", {make_op("Add", {a, b}), c});
    Model m(OutputVector{sum}, {x});
    const Tensor input = Tensor::from_vector<float>({1.f, -2.f, 3.f, 0.5f});
    const Tensor before = evaluate_model(m, {input})[0];
    EXPECT_TRUE(EliminateCommonSubexpressions().run(m));
    EXPECT_EQ(count_type(m, "Multiply"), 2u);
    EXPECT_EQ(count_type(m, "Const"), 2u);
    EXPECT_TRUE(evaluate_model(m, {input})[0].identical(before));
}

TEST(EliminateCommonSubexpressions, DifferentAttributesOrStatefulNodesStay) {
    auto x = make_parameter(ElementType::f32, Shape{2, 3}, "x");
    auto axes = make_constant(Tensor::from_vector<int64_t>({1}, Shape{1}), "axes");
    auto keep = make_op("ReduceSum", {x->output(0), axes->output(0)}, {{"keep_dims", true}});
    auto drop = make_op("ReduceSum", {x->output(0), axes->output(0)}, {{"keep_dims", false}});
    Model m(OutputVector{keep, drop}, {x});
    EXPECT_FALSE(EliminateCommonSubexpressions().run(m));
    EXPECT_EQ(count_type(m, "ReduceSum"), 2u);
}
