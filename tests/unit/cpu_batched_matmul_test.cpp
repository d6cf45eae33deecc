// MatMul of two activations (attention products) and Transpose on the CPU device against the
// reference kernels; the shape-only ops stay views.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::random_f32;

namespace {


void check_batched(const Shape& a_shape, const Shape& b_shape, bool ta, bool tb,
                   const char* threads) {
    auto a = make_parameter(ElementType::f32, a_shape, "a");
    auto b = make_parameter(ElementType::f32, b_shape, "b");
    auto y = make_node("MatMul", {a->output(0), b->output(0)},
                       {{"transpose_a", ta}, {"transpose_b", tb}});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{a, b});
    auto compiled = std::make_shared<const cpu::CompiledModel>(
        model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    const Tensor ta_in = random_f32(a_shape, 3), tb_in = random_f32(b_shape, 4);
    cpu::InferRequest req(compiled);
    req.set_input(0, ta_in);
    req.set_input(1, tb_in);
    req.infer();
    const Tensor& fast = req.output(0);
    const Tensor ref = evaluate_model(*model, {ta_in, tb_in})[0];
    ASSERT_EQ(fast.shape(), ref.shape());
    for (int64_t i = 0; i < ref.size(); ++i) {
        const float r = ref.data<float>()[i], f = fast.data<float>()[i];
        ASSERT_NEAR(f, r, 1e-5f * (1.f + std::fabs(r))) << "element " << i;
    }
}

}  // namespace

TEST(CpuBatchedMatMulKernel, AttentionShapesWithOddSizes) {
    for (const char* threads : {"1", "2", "3"}) {
        // [B, heads, S, D] x [B, heads, D, S] and the probabilities times V.
        check_batched({2, 3, 17, 9}, {2, 3, 9, 17}, false, false, threads);
        check_batched({1, 5, 13, 13}, {1, 5, 13, 7}, false, false, threads);
        check_batched({1, 3, 17, 9}, {1, 3, 17, 9}, false, true, threads);
        check_batched({2, 3, 9, 17}, {2, 3, 9, 11}, true, false, threads);
        check_batched({3, 9, 17}, {3, 11, 9}, true, true, threads);
    }
}

TEST(CpuBatchedMatMulKernel, BroadcastsBatchAxes) {
    for (const char* threads : {"1", "2"}) {
        check_batched({2, 1, 7, 5}, {1, 3, 5, 6}, false, false, threads);
        check_batched({4, 7, 5}, {5, 33}, false, false, threads);  // rank-2 activation b
        check_batched({7, 5}, {3, 5, 33}, false, false, threads);
        check_batched({1, 67, 129}, {1, 129, 45}, false, false, threads);  // one large product
    }
}

TEST(CpuBatchedMatMulKernel, EmptyAndMismatchedShapes) {
    check_batched({0, 3, 4}, {0, 4, 5}, false, false, "2");
    check_batched({2, 3, 0}, {2, 0, 5}, false, false, "2");
    auto a = make_parameter(ElementType::f32, PartialShape::dynamic(3), "a");
    auto b = make_parameter(ElementType::f32, PartialShape::dynamic(3), "b");
    auto y = make_node("MatMul", {a->output(0), b->output(0)});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{a, b});
    cpu::InferRequest req(std::make_shared<const cpu::CompiledModel>(model, AnyMap{}));
    req.set_input(0, random_f32({2, 3, 4}, 1));
    req.set_input(1, random_f32({3, 4, 5}, 2));
    EXPECT_THROW(req.infer(), Error);  // batch 2 against 3
    req.set_input(1, random_f32({2, 5, 5}, 2));
    EXPECT_THROW(req.infer(), Error);  // inner 4 against 5
}

namespace {

void check_transpose(const Shape& shape, std::vector<int64_t> perm, ElementType type,
                     const char* threads) {
    auto x = make_parameter(type, shape, "x");
    auto y =
        make_node("Transpose", {x->output(0), make_constant(Tensor::from_vector(perm))->output(0)});
    auto model =
        std::make_shared<Model>(OutputVector{y->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    auto compiled = std::make_shared<const cpu::CompiledModel>(
        model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    Tensor in(type, shape);
    auto* bytes = static_cast<uint8_t*>(in.raw_data());
    for (size_t i = 0; i < in.byte_size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131 + 7);
    cpu::InferRequest req(compiled);
    req.set_input(0, in);
    req.infer();
    const Tensor ref = evaluate_model(*model, {in})[0];
    EXPECT_TRUE(req.output(0).identical(ref)) << to_string(shape);
}

}  // namespace

TEST(CpuTransposeKernel, AttentionPermutationsAndOddShapes) {
    for (const char* threads : {"1", "2"}) {
        check_transpose({2, 17, 3, 5}, {0, 2, 1, 3}, ElementType::f32, threads);
        check_transpose({2, 3, 17, 5}, {0, 2, 1, 3}, ElementType::f32, threads);
        check_transpose({2, 17, 3, 5}, {0, 2, 3, 1}, ElementType::f32, threads);
        check_transpose({1, 3, 33, 19}, {0, 1, 3, 2}, ElementType::f32, threads);
        check_transpose({5, 7, 3}, {2, 0, 1}, ElementType::i64, threads);
        check_transpose({4, 1, 6, 1, 3}, {4, 2, 0, 3, 1}, ElementType::u8, threads);
        check_transpose({3, 4, 5, 6}, {3, 1, 2, 0}, ElementType::f16, threads);
        check_transpose({7}, {0}, ElementType::f32, threads);
        check_transpose({2, 0, 3}, {2, 1, 0}, ElementType::f32, threads);
        check_transpose({2, 1, 3, 5}, {0, 2, 1, 3}, ElementType::f32, threads);
        check_transpose({1, 3, 1, 5}, {0, 2, 1, 3}, ElementType::f16, threads);
    }
}

// A decode step's heads split: [B, 1, H, D] -> [B, H, 1, D] moves only a unit axis, so the
// output is the input's bytes, not a copy.
TEST(CpuTransposeKernel, MovingOnlyUnitAxesIsAView) {
    auto x = make_parameter(ElementType::f32, Shape{2, 1, 3, 5}, "x");
    auto y = make_node("Transpose", {x->output(0), make_constant(Tensor::from_vector<int64_t>(
                                                       {0, 2, 1, 3}))->output(0)});
    auto model =
        std::make_shared<Model>(OutputVector{y->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    cpu::InferRequest req(std::make_shared<const cpu::CompiledModel>(model, AnyMap{}));
    const Tensor in = random_f32({2, 1, 3, 5}, 6);
    req.set_input(0, in);
    req.infer();
    EXPECT_EQ(req.output(0).shape(), (Shape{2, 3, 1, 5}));
    EXPECT_EQ(req.output(0).raw_data(), in.raw_data());
}

// Reshape's kernel resolves 0 (special_zero) and -1 as the op's shape inference does, for a
// constant target and one computed at run time, and refuses what the reference refuses.
TEST(CpuReshapeKernel, MatchesReferenceAndRefusesBadTargets) {
    struct Case {
        Shape in;
        std::vector<int64_t> target;
        bool special_zero, ok;
    };
    const Case cases[] = {
        {{2, 6, 4}, {0, -1, 2}, true, true},   {{2, 6, 4}, {-1}, false, true},
        {{2, 6, 4}, {4, 0, 2}, true, true},    {{2, 6, 4}, {0, 3, -1}, false, false},
        {{2, 6, 4}, {4, 0, 3}, true, false},
        {{2, 0, 4}, {0, -1}, true, true},      {{2, 6, 4}, {-1, -1}, false, false},
        {{2, 6, 4}, {5, -1}, false, false},    {{2, 6, 4}, {2, -2, 4}, false, false},
        {{3}, {0, 0}, true, false},
    };
    for (const Case& c : cases) {
        for (bool constant : {true, false}) {
            SCOPED_TRACE(to_string(c.in) + " -> " + to_string(Shape(c.target)) +
                         (constant ? " constant" : " computed"));
            auto x = make_parameter(ElementType::f32, c.in, "x");
            const int64_t rank = static_cast<int64_t>(c.target.size());
            const Tensor target = Tensor::from_vector(c.target, {rank});
            auto t = make_parameter(ElementType::i64, Shape{rank}, "t");
            const Output target_port = constant ? make_constant(target)->output(0) : t->output(0);
            std::shared_ptr<Node> y;
            try {
                y = make_node("Reshape", {x->output(0), target_port}, {{"special_zero", c.special_zero}});
            } catch (const Error&) {
                EXPECT_FALSE(c.ok);  // refused when the graph is built
                continue;
            }
            std::vector<std::shared_ptr<Node>> params = {x};
            if (!constant) params.push_back(t);
            auto model = std::make_shared<Model>(OutputVector{y->output(0)}, params);
            auto compiled = std::make_shared<const cpu::CompiledModel>(model, AnyMap{});
            EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
            cpu::InferRequest req(compiled);
            const Tensor in = random_f32(c.in, 8);
            req.set_input(0, in);
            if (!constant) req.set_input(1, target);
            if (!c.ok) {
                EXPECT_THROW(req.infer(), Error);
                continue;
            }
            req.infer();
            TensorVector inputs = {in};
            if (!constant) inputs.push_back(target);
            EXPECT_TRUE(req.output(0).identical(evaluate_model(*model, inputs)[0]));
            EXPECT_EQ(req.output(0).raw_data(), in.raw_data());
        }
    }
}

TEST(CpuPlan, ReshapeSqueezeUnsqueezeAreViews) {
    auto x = make_parameter(ElementType::f32, Shape{2, 6, 4}, "x");
    auto ints = [](std::vector<int64_t> v) {
        return make_constant(Tensor::from_vector(v))->output(0);
    };
    auto r = make_node("Reshape", {x->output(0), ints({2, 6, 2, 2})}, {{"special_zero", false}});
    auto u = make_node("Unsqueeze", {r->output(0), ints({0})});
    auto s = make_node("Squeeze", {u->output(0), ints({0})});
    auto model =
        std::make_shared<Model>(OutputVector{s->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    cpu::InferRequest req(std::make_shared<const cpu::CompiledModel>(model, AnyMap{}));
    const Tensor in = random_f32({2, 6, 4}, 5);
    req.set_input(0, in);
    req.infer();
    EXPECT_EQ(req.output(0).shape(), (Shape{2, 6, 2, 2}));
    EXPECT_EQ(req.output(0).raw_data(), in.raw_data());  // no copy anywhere on the way
}
