// Core::compile_model copies a model the caller keeps, and consumes one it gives away: the
// consumed model's weights are freed as they are packed, and a model still shared elsewhere is
// never touched.
#include <gtest/gtest.h>

#include "kiln/runtime.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::random_f32;

namespace {

struct MatMulModel {
    std::shared_ptr<Model> model;
    std::shared_ptr<Node> weight;
};

MatMulModel matmul_model() {
    auto x = make_parameter(ElementType::f32, Shape{3, 37}, "x");
    auto w = make_constant(random_f32({37, 29}, 11));
    auto y = make_node("MatMul", {x->output(0), w->output(0)}, {});
    return {std::make_shared<Model>(OutputVector{y->output(0)}, std::vector<std::shared_ptr<Node>>{x}),
            w};
}

Tensor run(const CompiledModel& compiled, const Tensor& in) {
    InferRequest req = compiled.create_infer_request();
    req.set_input_tensor(in);
    req.infer();
    return req.get_output_tensor();
}

void expect_close(const Tensor& a, const Tensor& b) {
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.size(); ++i)
        EXPECT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-4f) << "element " << i;
}

}  // namespace

TEST(CompileOwnership, KeptModelIsCopiedAndUnchanged) {
    Core core;
    auto m = matmul_model();
    const Tensor in = random_f32({3, 37}, 12);
    const Tensor expected = evaluate_model(*m.model, {in})[0];
    const CompiledModel compiled = core.compile_model(m.model);
    EXPECT_FALSE(m.weight->value().empty()) << "the caller's weights must stay";
    expect_close(run(compiled, in), expected);
    expect_close(evaluate_model(*m.model, {in})[0], expected);
}

TEST(CompileOwnership, GivenAwayModelReleasesPackedWeights) {
    Core core;
    auto m = matmul_model();
    const Tensor in = random_f32({3, 37}, 12);
    const Tensor expected = evaluate_model(*m.model, {in})[0];
    const CompiledModel compiled = core.compile_model(std::move(m.model));
    EXPECT_TRUE(m.weight->value().empty()) << "a packed weight must not be held twice";
    expect_close(run(compiled, in), expected);
}

TEST(CompileOwnership, SharedModelIsNotConsumed) {
    Core core;
    auto m = matmul_model();
    const std::shared_ptr<Model> other_owner = m.model;
    const Tensor in = random_f32({3, 37}, 12);
    const Tensor expected = evaluate_model(*other_owner, {in})[0];
    const CompiledModel compiled = core.compile_model(std::move(m.model));
    EXPECT_FALSE(m.weight->value().empty());
    expect_close(run(compiled, in), expected);
    expect_close(evaluate_model(*other_owner, {in})[0], expected);
}
