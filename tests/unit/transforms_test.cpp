#include <gtest/gtest.h>

#include "core/op_def.hpp"
#include "ops/reference_executor.hpp"
#include "transforms/constant_folding.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::count_type;

TEST(ConstantFolding, LeavesGraphsWithoutFoldableNodesUnchanged) {
    auto p = make_parameter(ElementType::f32, Shape{2}, "x");
    auto c = make_constant(Tensor::from_vector<float>({1.f, 2.f}), "c");
    Model m(OutputVector{make_op("Add", {p->output(0), c->output(0)}), c->output(0)}, {p});
    EXPECT_FALSE(ConstantFolding().run(m));
    EXPECT_EQ(count_type(m, "Add"), 1u);
}

TEST(ConstantFolding, CollapsesConstantChainsAndKeepsNamesAndValues) {
    auto p = make_parameter(ElementType::f32, Shape{2}, "x");
    auto a = make_constant(Tensor::from_vector<float>({1.f, 2.f}), "a");
    auto b = make_constant(Tensor::from_vector<float>({10.f, 20.f}), "b");
    auto sum = make_node("Add", {a->output(0), b->output(0)}, {}, {}, "sum");
    sum->output_info(0).names.insert("sum");
    auto scaled = make_node("Multiply", {sum->output(0), b->output(0)}, {}, {}, "scaled");
    auto y = make_op("Add", {p->output(0), scaled->output(0)});
    Model m(OutputVector{y, sum->output(0)}, {p});
    const Tensor x = Tensor::from_vector<float>({0.5f, 0.25f});
    const auto before = evaluate_model(m, {x});

    EXPECT_TRUE(ConstantFolding().run(m));
    EXPECT_EQ(count_type(m, "Multiply"), 0u);
    EXPECT_EQ(count_type(m, "Add"), 1u);  // only the one reading the parameter
    EXPECT_TRUE(m.outputs()[1].names().count("sum"));
    const auto after = evaluate_model(m, {x});
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(after[i].identical(before[i]));
    EXPECT_EQ(after[0].data<float>()[1], 0.25f + 22.f * 20.f);
}
