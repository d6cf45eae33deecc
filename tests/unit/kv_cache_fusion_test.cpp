// KvCacheFusion and the in-place KV cache kernel: a stateful attention graph (ReadValue ->
// Concat -> Assign for keys and values, then ScaledDotProductAttention) compiled for the CPU
// must give, step after step, what the unfused graph gives on the reference kernels, also when
// the cache outgrows its first capacity and after reset_state().
#include <gtest/gtest.h>

#include <cmath>

#include "kiln/runtime.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::random_f32;

namespace {

constexpr int64_t kBatch = 2, kHeads = 3, kDim = 7;

std::shared_ptr<Node> cached(const std::string& id, const Output& fresh,
                             std::vector<std::shared_ptr<Node>>& sinks) {
    auto init = make_constant(Tensor(ElementType::f32, Shape{kBatch, kHeads, 0, kDim}));
    auto past = make_node("ReadValue", {init->output(0)}, {{"variable_id", id}});
    auto all = make_node("Concat", {past->output(0), fresh}, {{"axis", int64_t{2}}});
    sinks.push_back(make_node("Assign", {all->output(0)}, {{"variable_id", id}}));
    return all;
}

std::shared_ptr<Model> stateful_attention() {
    const PartialShape rows({kBatch, kHeads, Dimension(), kDim});
    auto q = make_parameter(ElementType::f32, rows, "q");
    auto k = make_parameter(ElementType::f32, rows, "k");
    auto v = make_parameter(ElementType::f32, rows, "v");
    auto mask = make_parameter(ElementType::f32, PartialShape({kBatch, 1, Dimension(), Dimension()}),
                               "mask");
    std::vector<std::shared_ptr<Node>> sinks;
    auto keys = cached("layer.key", k->output(0), sinks);
    auto values = cached("layer.value", v->output(0), sinks);
    auto y = make_node("ScaledDotProductAttention",
                       {q->output(0), keys->output(0), values->output(0), mask->output(0),
                        make_constant(Tensor::scalar(0.3f))->output(0)},
                       {{"causal", false}});
    auto result = make_node("Result", {y->output(0)});
    return std::make_shared<Model>(std::vector<std::shared_ptr<Node>>{result},
                                   std::vector<std::shared_ptr<Node>>{q, k, v, mask}, sinks);
}

// A mask that hides some cached positions (finite, so no row is empty).
Tensor step_mask(int64_t rows, int64_t total, uint32_t seed) {
    Tensor m = random_f32({kBatch, 1, rows, total}, seed);
    for (int64_t i = 0; i < m.size(); ++i) m.data<float>()[i] = m.data<float>()[i] > 0.6f ? -1e4f : 0.f;
    return m;
}

}  // namespace

TEST(KvCacheFusion, FusesTheCacheUpdateIntoAttention) {
    const CompiledModel compiled = Core().compile_model(stateful_attention());
    const auto runtime = compiled.get_runtime_model();
    size_t fused = 0;
    for (const auto& n : runtime->ordered_ops()) {
        fused += n->type() == "ScaledDotProductAttentionWithKVCache";
        EXPECT_NE(n->type(), "ReadValue");
    }
    EXPECT_EQ(fused, 1u);
    EXPECT_TRUE(runtime->sinks().empty());
}

class KvCachePrecision : public ::testing::TestWithParam<const char*> {};

// f32 matches the reference to rounding; f16 stores each key and value rounded to half precision
// (relative error 2^-11), which moves the outputs by about that much.
TEST_P(KvCachePrecision, StepsMatchTheUnfusedGraphAcrossGrowthAndReset) {
    const std::string precision = GetParam();
    const float tolerance = precision == "f32" ? 1e-4f : 3e-3f;
    const auto model = stateful_attention();
    const ReferencePlan reference(model);
    const CompiledModel compiled =
        Core().compile_model(model, "CPU", {{"KV_CACHE_PRECISION", precision}});
    EXPECT_EQ(compiled.get_property("KV_CACHE_PRECISION"), precision);
    InferRequest request = compiled.create_infer_request();
    // A prompt, single-token steps, then a long chunk that outgrows the first capacity (256).
    const std::vector<int64_t> steps = {5, 1, 1, 300, 1, 2};
    for (int round = 0; round < 2; ++round) {
        std::map<std::string, Tensor> variables;
        ExecContext ctx;
        ctx.variables = &variables;
        int64_t total = 0;
        uint32_t seed = 100;
        for (int64_t rows : steps) {
            total += rows;
            const TensorVector in = {random_f32({kBatch, kHeads, rows, kDim}, seed++),
                                     random_f32({kBatch, kHeads, rows, kDim}, seed++),
                                     random_f32({kBatch, kHeads, rows, kDim}, seed++),
                                     step_mask(rows, total, seed++)};
            const Tensor expected = reference.run(in, ctx)[0];
            for (size_t i = 0; i < in.size(); ++i) request.set_input_tensor(i, in[i]);
            request.infer();
            const Tensor got = request.get_output_tensor();
            ASSERT_EQ(got.shape(), expected.shape()) << "step of " << rows << " rows";
            for (int64_t i = 0; i < got.size(); ++i)
                ASSERT_NEAR(got.data<float>()[i], expected.data<float>()[i],
                            tolerance * (1.f + std::fabs(expected.data<float>()[i])))
                    << "step of " << rows << " rows, total " << total << ", element " << i;
        }
        request.reset_state();  // the second round must start from an empty cache again
    }
}

INSTANTIATE_TEST_SUITE_P(KvCacheFusion, KvCachePrecision, ::testing::Values("f32", "f16"));

TEST(KvCacheFusion, UnknownCachePrecisionIsAClearError) {
    try {
        Core().compile_model(stateful_attention(), "CPU", {{"KV_CACHE_PRECISION", "u4"}});
        FAIL() << "KV_CACHE_PRECISION u4 was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("KV_CACHE_PRECISION must be f32 or f16"),
                  std::string::npos)
            << e.what();
    }
}

TEST(KvCacheFusion, MaskLongerThanTheCacheIsAClearError) {
    const CompiledModel compiled = Core().compile_model(stateful_attention());
    InferRequest request = compiled.create_infer_request();
    auto feed = [&](int64_t rows, int64_t total) {
        request.set_input_tensor(0, random_f32({kBatch, kHeads, rows, kDim}, 1));
        request.set_input_tensor(1, random_f32({kBatch, kHeads, rows, kDim}, 2));
        request.set_input_tensor(2, random_f32({kBatch, kHeads, rows, kDim}, 3));
        request.set_input_tensor(3, step_mask(rows, total, 4));
        request.infer();
    };
    feed(3, 3);
    // The mask says 5 positions while the cache holds 3 + 1: the attention refuses the mask.
    EXPECT_THROW(feed(1, 5), Error);
}

TEST(ReadValue, DeclaredVariableShapeWinsOverTheInitializer) {
    auto init = make_constant(Tensor(ElementType::f32, Shape{kBatch, kHeads, 0, kDim}));
    const PartialShape declared({kBatch, kHeads, Dimension(), kDim});
    auto past = make_node("ReadValue", {init->output(0)},
                          {{"variable_id", std::string("v")},
                           {"variable_shape", partial_shape_to_ir(declared)}});
    EXPECT_EQ(past->output_shape(0), declared);
    EXPECT_THROW(make_node("ReadValue", {init->output(0)},
                           {{"variable_id", std::string("v")},
                            {"variable_shape", partial_shape_to_ir(PartialShape({1, 1, 1}))}}),
                 Error);
}
