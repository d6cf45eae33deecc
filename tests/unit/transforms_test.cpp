#include <gtest/gtest.h>

#include "core/op_def.hpp"
#include "ops/reference_executor.hpp"
#include "transforms/constant_folding.hpp"

using namespace kiln;

// Uses Result/Const only (every other op belongs to a family), so the pass is tested on the
// plumbing it must preserve: names move to the folded constant, results stay wired.
TEST(ConstantFolding, LeavesGraphsWithoutFoldableNodesUnchanged) {
    auto p = make_parameter(ElementType::f32, Shape{2}, "x");
    p->output_info(0).names.insert("x");
    auto c = make_constant(Tensor::from_vector<float>({1.f, 2.f}), "c");
    c->output_info(0).names.insert("c");
    Model m(OutputVector{p->output(0), c->output(0)}, {p});
    EXPECT_FALSE(ConstantFolding().run(m));
    auto outs = evaluate_model(m, {Tensor::from_vector<float>({5.f, 6.f})});
    ASSERT_EQ(outs.size(), 2u);
    EXPECT_EQ(outs[1].data<float>()[1], 2.f);
}
