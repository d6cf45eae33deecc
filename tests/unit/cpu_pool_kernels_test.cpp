// The CPU pooling kernels against the reference kernels, on random inputs of odd sizes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;

namespace {

using Ints = std::vector<int64_t>;

Tensor random_f32(Shape shape, uint32_t seed) {
    return test_data::random_f32(std::move(shape), seed, -3.f, 3.f);
}

Attributes pool_attrs(Ints kernel, Ints strides, Ints pb, Ints pe, const std::string& rounding,
                      const std::string& auto_pad = "explicit") {
    return {{"kernel", kernel}, {"strides", strides},        {"pads_begin", pb},
            {"pads_end", pe},   {"rounding_type", rounding}, {"auto_pad", auto_pad}};
}

void check(const std::string& type, const Shape& xs, Attributes attrs) {
    SCOPED_TRACE(type + " " + to_string(xs));
    auto x = make_parameter(ElementType::f32, xs, "x");
    auto node = make_node(type, {x->output(0)}, std::move(attrs));
    auto model = std::make_shared<Model>(node->outputs(), std::vector<std::shared_ptr<Node>>{x});
    for (const char* threads : {"1", "2"}) {
        auto compiled = std::make_shared<const cpu::CompiledModel>(
            model, AnyMap{{"INFERENCE_NUM_THREADS", threads}});
        EXPECT_EQ(compiled->plan().device_kernel_count(), 1u);
        const Tensor input = random_f32(xs, 7);
        cpu::InferRequest req(compiled);
        req.set_input(0, input);
        req.infer();
        const TensorVector ref = evaluate_model(*model, {input});
        for (size_t o = 0; o < ref.size(); ++o) {
            const Tensor& fast = req.output(o);
            ASSERT_EQ(fast.shape(), ref[o].shape());
            ASSERT_EQ(fast.element_type(), ref[o].element_type());
            for (int64_t i = 0; i < ref[o].size(); ++i) {
                const double r = ref[o].value_as_double(i), f = fast.value_as_double(i);
                if (o == 1 || std::isinf(r))
                    ASSERT_EQ(f, r) << "output " << o << " element " << i;
                else
                    ASSERT_NEAR(f, r, 1e-5 * (1 + std::fabs(r))) << "element " << i;
            }
        }
    }
}

}  // namespace

TEST(CpuPoolKernel, MaxPoolValuesAndIndices) {
    Attributes a = pool_attrs({3, 3}, {2, 2}, {1, 1}, {1, 1}, "floor");
    a.set("dilations", Ints{1, 1});
    check("MaxPool", {1, 5, 13, 11}, a);
    a.set("rounding_type", std::string("ceil"));
    a.set("index_element_type", std::string("i32"));
    check("MaxPool", {2, 3, 12, 9}, a);
    Attributes d = pool_attrs({2, 3}, {1, 2}, {0, 2}, {1, 0}, "floor");
    d.set("dilations", Ints{2, 1});
    d.set("axis", int64_t{2});
    check("MaxPool", {1, 4, 9, 10}, d);
    Attributes s = pool_attrs({3, 3}, {2, 2}, {0, 0}, {0, 0}, "floor", "same_upper");
    s.set("dilations", Ints{1, 1});
    check("MaxPool", {1, 3, 8, 7}, s);
    // Rows wider than a vector, both strides, with tails.
    Attributes w1 = pool_attrs({3, 3}, {1, 1}, {1, 1}, {1, 1}, "floor");
    w1.set("dilations", Ints{1, 1});
    check("MaxPool", {1, 3, 9, 41}, w1);
    Attributes w2 = pool_attrs({3, 3}, {2, 2}, {1, 1}, {1, 1}, "floor");
    w2.set("dilations", Ints{1, 1});
    check("MaxPool", {1, 2, 7, 77}, w2);
    check("MaxPool", {1, 64, 112, 112}, w2);
}

TEST(CpuPoolKernel, AvgPoolWithAndWithoutPads) {
    for (bool exclude : {true, false}) {
        Attributes a = pool_attrs({3, 2}, {2, 1}, {1, 1}, {1, 0}, "floor");
        a.set("exclude-pad", exclude);
        check("AvgPool", {1, 5, 11, 13}, a);
        a.set("rounding_type", std::string("ceil"));
        check("AvgPool", {2, 3, 10, 7}, a);
    }
}

TEST(CpuPoolKernel, GlobalAveragePool) {
    check("AvgPool", {1, 7, 7, 7}, pool_attrs({7, 7}, {1, 1}, {0, 0}, {0, 0}, "floor"));
    check("AvgPool", {2, 37, 28, 29}, pool_attrs({28, 29}, {1, 1}, {0, 0}, {0, 0}, "floor"));
}
