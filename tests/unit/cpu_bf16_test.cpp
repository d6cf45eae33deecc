// INFERENCE_PRECISION_HINT=bf16 on the CPU device: MatMul and Convolution multiply in bf16 with
// f32 accumulation where the CPU has AVX512_BF16, and stay within bf16 rounding of f32.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "cpu/kernels/gemm/gemm.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::random_f32;

namespace {


bool bf16_supported() { return cpu::gemm::packing_isa(true) == cpu::gemm::Isa::avx512_bf16; }

// Runs `model` with the bf16 hint and compares with the f32 reference: every output element
// within `rel` of the largest reference magnitude, and (where bf16 runs) not bit-identical.
void check_bf16(const std::shared_ptr<Model>& model, const Tensor& input, int64_t reduction) {
    const AnyMap props{{"INFERENCE_PRECISION_HINT", "bf16"}, {"INFERENCE_NUM_THREADS", "2"}};
    auto compiled = std::make_shared<const cpu::CompiledModel>(model, props);
    EXPECT_EQ(compiled->property("INFERENCE_PRECISION_HINT"), "bf16");
    EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
    cpu::InferRequest req(compiled);
    req.set_input(0, input);
    req.infer();
    const Tensor& got = req.output(0);
    const Tensor ref = evaluate_model(*model, {input})[0];
    ASSERT_EQ(got.shape(), ref.shape());
    // Inputs in [-1, 1] rounded to 8 significant bits: each product is off by at most ~2^-8, and
    // random signs make the sum's error grow like sqrt(K).
    const float tol = 4.f * std::ldexp(1.f, -8) * std::sqrt(static_cast<float>(reduction));
    float max_diff = 0.f;
    for (int64_t i = 0; i < ref.size(); ++i) {
        const float diff = std::fabs(got.data<float>()[i] - ref.data<float>()[i]);
        ASSERT_LE(diff, tol) << "element " << i;
        max_diff = std::max(max_diff, diff);
    }
    if (bf16_supported())
        EXPECT_GT(max_diff, 0.f) << "the bf16 hint should round the inputs";
    else
        EXPECT_LE(max_diff, 1e-5f * reduction);
}

}  // namespace

TEST(CpuBf16, MatMulOddSizes) {
    for (int64_t k : {1, 7, 64, 301}) {
        auto x = make_parameter(ElementType::f32, Shape{19, k}, "x");
        auto w = make_constant(random_f32({k, 45}, 3), "w");
        auto y = make_node("MatMul", {x->output(0), w->output(0)});
        auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                             std::vector<std::shared_ptr<Node>>{x});
        check_bf16(model, random_f32({19, k}, 5), k);
    }
}

TEST(CpuBf16, ConvolutionOddSizes) {
    auto x = make_parameter(ElementType::f32, Shape{1, 5, 13, 11}, "x");
    auto w = make_constant(random_f32({7, 5, 3, 3}, 9), "w");
    auto y = make_node("Convolution", {x->output(0), w->output(0)},
                       {{"strides", std::vector<int64_t>{1, 1}},
                        {"pads_begin", std::vector<int64_t>{1, 1}},
                        {"pads_end", std::vector<int64_t>{1, 1}},
                        {"dilations", std::vector<int64_t>{1, 1}},
                        {"auto_pad", std::string("explicit")}});
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x});
    check_bf16(model, random_f32({1, 5, 13, 11}, 1), 5 * 3 * 3);
}
