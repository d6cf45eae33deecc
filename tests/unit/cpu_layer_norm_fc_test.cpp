// The CPU LayerNorm and FullyConnected kernels against their reference kernels, on random inputs
// of odd sizes, per ISA path the machine has.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::random_f32;

namespace {


void check_fast(const std::shared_ptr<Node>& y, const std::shared_ptr<Node>& x, const Tensor& in,
                const char* threads, float tol) {
    auto model =
        std::make_shared<Model>(OutputVector{y->output(0)}, std::vector<std::shared_ptr<Node>>{x});
    auto compiled = std::make_shared<const cpu::CompiledModel>(
        model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    cpu::InferRequest req(compiled);
    req.set_input(0, in);
    req.infer();
    const Tensor& fast = req.output(0);
    const Tensor ref = evaluate_model(*model, {in})[0];
    ASSERT_EQ(fast.shape(), ref.shape());
    for (int64_t i = 0; i < ref.size(); ++i) {
        const float r = ref.data<float>()[i], f = fast.data<float>()[i];
        ASSERT_NEAR(f, r, tol * (1.f + std::fabs(r))) << "element " << i;
    }
}

void check_layer_norm(const Shape& shape, int64_t axis, const Shape& scale_shape, bool bias,
                      bool rms, const char* threads) {
    auto x = make_parameter(ElementType::f32, shape, "x");
    OutputVector ins{x->output(0), make_constant(random_f32(scale_shape, 2, 0.5f, 2.f))->output(0)};
    if (bias) ins.push_back(make_constant(random_f32(scale_shape, 3))->output(0));
    auto y = make_node("LayerNorm", ins, {{"axis", axis}, {"epsilon", 1e-5}, {"rms", rms}});
    // An offset mean checks the centered variance.
    check_fast(y, x, random_f32(shape, 4, 2.f, 5.f), threads, 2e-4f);
}

void check_fc(const Shape& x_shape, int64_t n, bool tb, const char* threads) {
    const int64_t k = x_shape.back();
    auto x = make_parameter(ElementType::f32, x_shape, "x");
    auto w = make_constant(random_f32(tb ? Shape{n, k} : Shape{k, n}, 5));
    auto b = make_constant(random_f32({n}, 6));
    auto y = make_node("FullyConnected", {x->output(0), w->output(0), b->output(0)},
                       {{"transpose_b", tb}});
    // f32 sums against the reference's double ones drift with K.
    check_fast(y, x, random_f32(x_shape, 7), threads,
               1e-5f * std::max(1.f, static_cast<float>(k) / 64.f));
}

}  // namespace

TEST(CpuLayerNormKernel, MatchesReferenceOnOddSizes) {
    for (const char* threads : {"1", "2"})
        for (int64_t n : {1, 7, 16, 17, 33, 773})
            for (bool rms : {false, true}) {
                check_layer_norm({5, n}, -1, {n}, true, rms, threads);
                check_layer_norm({2, 3, n}, 1, {1, n}, false, rms, threads);
            }
}

TEST(CpuLayerNormKernel, SeveralNormalizedAxesAndBroadcastScale) {
    check_layer_norm({3, 4, 5, 7}, 2, {5, 7}, true, false, "2");
    check_layer_norm({3, 4, 5, 7}, -3, {5, 1}, true, false, "2");
    check_layer_norm({129, 768}, 1, {768}, true, false, "3");
}

TEST(CpuLayerNormKernel, ShapeChecks) {
    auto x = make_parameter(ElementType::f32, Shape{2, 4}, "x");
    EXPECT_THROW(
        make_node("LayerNorm", {x->output(0), make_constant(random_f32({3}, 1))->output(0)},
                  {{"axis", int64_t{-1}}}),
        Error);
    EXPECT_THROW(
        make_node("LayerNorm", {x->output(0), make_constant(random_f32({4}, 1))->output(0)},
                  {{"axis", int64_t{2}}}),
        Error);
}

TEST(CpuFullyConnectedKernel, MatchesReferenceOnOddSizes) {
    for (const char* threads : {"1", "2", "3"})
        for (int64_t n : {1, 5, 33, 129})
            for (bool tb : {false, true}) {
                check_fc({3, 7}, n, tb, threads);
                check_fc({2, 37, 65}, n, tb, threads);  // row tiles split over threads
            }
    check_fc({1, 64}, 4099, false, "2");    // column panels split over threads
    check_fc({3, 0}, 5, false, "2");        // empty product: the bias alone
    check_fc({37, 1100}, 4001, true, "2");  // 17 MB packed: split by columns despite many rows
}
