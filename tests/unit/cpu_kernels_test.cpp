// The CPU device's optimized kernels against the reference kernels, on random inputs of odd sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::random_f32;

namespace {


// Compiles y = x @ W (W constant) on the CPU device and compares with the reference kernel.
void check_matmul(const Shape& x_shape, const Shape& w_shape, bool transpose_b, bool expect_fast,
                  const AnyMap& props = {}) {
    auto x = make_parameter(ElementType::f32, x_shape, "x");
    auto w = make_constant(random_f32(w_shape, 7), "w");
    auto y = make_node("MatMul", {x->output(0), w->output(0)}, {{"transpose_b", transpose_b}});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x});
    cpu::CompiledModel compiled(model, props);
    EXPECT_EQ(compiled.plan().device_kernel_count(), expect_fast ? 1u : 0u);

    const Tensor input = random_f32(x_shape, 11);
    cpu::InferRequest req(std::make_shared<const cpu::CompiledModel>(model, props));
    req.set_input(0, input);
    req.infer();
    const Tensor& fast = req.output(0);
    const Tensor ref = evaluate_model(*model, {input})[0];
    ASSERT_EQ(fast.shape(), ref.shape());
    for (int64_t i = 0; i < ref.size(); ++i) {
        const float r = ref.data<float>()[i], f = fast.data<float>()[i];
        ASSERT_NEAR(f, r, 1e-5f * (1.f + std::fabs(r))) << "element " << i;
    }
}

}  // namespace

TEST(CpuMatMulKernel, MatchesReferenceOnOddSizes) {
    for (int64_t m : {1, 3, 17})
        for (int64_t k : {1, 7, 65})
            for (int64_t n : {1, 5, 33, 129}) check_matmul({m, k}, {k, n}, false, true);
}

TEST(CpuMatMulKernel, TransposedWeightsAndBatchedActivations) {
    check_matmul({2, 5, 19}, {37, 19}, true, true);
    check_matmul({3, 1, 4, 9}, {9, 13}, false, true);
}

TEST(CpuMatMulKernel, OtherShapes) {
    check_matmul({9}, {9, 4}, false, false);        // 1-D activation
    check_matmul({2, 3, 4}, {2, 4, 5}, false, true);   // batched weight: the batched kernel
}

TEST(CpuMatMulKernel, EmptyDimensions) {
    check_matmul({0, 4}, {4, 3}, false, true);
    check_matmul({2, 0}, {0, 3}, false, true);
}

TEST(CpuMatMulKernel, SplitsLargeProductsOverThreads) {
    for (const char* threads : {"1", "2", "3"}) {
        const AnyMap props{{"INFERENCE_NUM_THREADS", threads}};
        check_matmul({67, 129}, {129, 257}, false, true, props);  // by row tiles
        check_matmul({1, 64}, {64, 4099}, false, true, props);   // by column panels
        check_matmul({2, 3, 77}, {301, 77}, true, true, props);
    }
}

TEST(CpuCompiledModel, ThreadCountProperty) {
    auto x = make_parameter(ElementType::f32, Shape{2}, "x");
    auto model = std::make_shared<Model>(OutputVector{x->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x});
    EXPECT_EQ(cpu::CompiledModel(model, {{"INFERENCE_NUM_THREADS", "3"}})
                  .property("INFERENCE_NUM_THREADS"),
              "3");
    EXPECT_EQ(cpu::CompiledModel(model, {}).property("INFERENCE_NUM_THREADS"),
              std::to_string(cpu::ThreadPool::hardware_threads()));
    EXPECT_THROW(cpu::CompiledModel(model, {{"INFERENCE_NUM_THREADS", "many"}}), Error);
    EXPECT_THROW(cpu::CompiledModel(model, {{"INFERENCE_NUM_THREADS", "-1"}}), Error);
    EXPECT_THROW(cpu::CompiledModel(model, {{"NO_SUCH_PROPERTY", "1"}}), Error);
}

namespace {

// Convolution with constant filters on the CPU device against the reference kernel.
void check_conv(const Shape& x_shape, const Shape& w_shape, Attributes attrs, const char* threads) {
    auto x = make_parameter(ElementType::f32, x_shape, "x");
    auto w = make_constant(random_f32(w_shape, 5), "w");
    auto y = make_node("Convolution", {x->output(0), w->output(0)}, std::move(attrs));
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x});
    auto compiled = std::make_shared<const cpu::CompiledModel>(
        model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    const Tensor input = random_f32(x_shape, 3);
    cpu::InferRequest req(compiled);
    req.set_input(0, input);
    req.infer();
    const Tensor& fast = req.output(0);
    const Tensor ref = evaluate_model(*model, {input})[0];
    ASSERT_EQ(fast.shape(), ref.shape());
    for (int64_t i = 0; i < ref.size(); ++i) {
        const float r = ref.data<float>()[i], f = fast.data<float>()[i];
        ASSERT_NEAR(f, r, 1e-5f * (1.f + std::fabs(r))) << "element " << i;
    }
}

Attributes conv_attrs(std::vector<int64_t> strides, std::vector<int64_t> pads_begin,
                      std::vector<int64_t> pads_end, std::vector<int64_t> dilations,
                      const std::string& auto_pad = "explicit") {
    return {{"strides", strides},
            {"pads_begin", pads_begin},
            {"pads_end", pads_end},
            {"dilations", dilations},
            {"auto_pad", auto_pad}};
}

}  // namespace

TEST(CpuConvKernel, MatchesReferenceOnOddSizes) {
    for (const char* threads : {"1", "2"}) {
        check_conv({1, 3, 7, 9}, {5, 3, 3, 3}, conv_attrs({1, 1}, {1, 1}, {1, 1}, {1, 1}), threads);
        check_conv({2, 4, 11, 6}, {7, 4, 1, 1}, conv_attrs({1, 1}, {0, 0}, {0, 0}, {1, 1}), threads);
        check_conv({1, 2, 13, 13}, {3, 2, 5, 2}, conv_attrs({2, 3}, {2, 0}, {1, 1}, {1, 2}), threads);
        check_conv({1, 3, 10, 7}, {4, 3, 3, 3},
                   conv_attrs({2, 2}, {0, 0}, {0, 0}, {2, 1}, "same_upper"), threads);
        check_conv({1, 1, 5, 5}, {2, 1, 3, 3}, conv_attrs({1, 1}, {0, 0}, {0, 0}, {1, 1}, "valid"),
                   threads);
        check_conv({3, 16, 20, 20}, {33, 16, 3, 3}, conv_attrs({1, 1}, {1, 1}, {1, 1}, {1, 1}),
                   threads);
    }
}
