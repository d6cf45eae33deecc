// FuseConvolution: which chains it folds into FusedConvolution, which it must leave alone, and
// that the fused graph computes what the unfused one did (reference kernels and CPU device).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "cpu/compiled_model.hpp"
#include "kiln/ir.hpp"
#include "ops/reference_executor.hpp"
#include "transforms/fuse_convolution.hpp"
#include "test_helpers.hpp"

using namespace kiln;

namespace {

using Ints = std::vector<int64_t>;

Tensor random_f32(Shape shape, uint32_t seed) {
    return test_data::random_f32(std::move(shape), seed, -2.f, 2.f);
}

Tensor scalar(float v) { return Tensor::scalar(v); }

Output constant(Tensor t) { return make_constant(std::move(t))->output(0); }

const Attributes kConv{{"strides", Ints{1, 1}},
                       {"pads_begin", Ints{1, 1}},
                       {"pads_end", Ints{1, 1}},
                       {"dilations", Ints{1, 1}},
                       {"auto_pad", std::string("explicit")}};

// x [1,3,6,5] -> Convolution (4 filters 3x3, pad 1) -> [1,4,6,5]
Output conv_of(const Output& x, uint32_t seed = 9) {
    return make_op("Convolution", {x, constant(random_f32({4, 3, 3, 3}, seed))}, kConv);
}
Output depthwise_of(const Output& x) {
    return make_op("GroupConvolution", {x, constant(random_f32({3, 1, 1, 3, 3}, 8))}, kConv);
}
Output bias_of(const Output& y, int64_t channels) {
    return make_op("Add", {y, constant(random_f32({1, channels, 1, 1}, 4))});
}

int count(const Model& m, const std::string& type) {
    int n = 0;
    for (const auto& node : m.ordered_ops()) n += node->type() == type;
    return n;
}

// Fuses a clone of `model`, checks the counts of FusedConvolution and of `left` ops, and that the
// outputs agree: reference unfused vs reference fused vs the CPU device, and through IR.
std::shared_ptr<Model> fuse_and_compare(const std::shared_ptr<Model>& model, int fused,
                                        std::map<std::string, int> left = {}) {
    auto f = model->clone();
    FuseConvolution().run(*f);
    f->validate();
    EXPECT_EQ(count(*f, "FusedConvolution"), fused);
    for (const auto& [type, n] : left) EXPECT_EQ(count(*f, type), n) << type;
    TensorVector inputs;
    uint32_t seed = 100;
    for (const auto& p : model->parameters())
        inputs.push_back(random_f32(p->output_shape(0).to_shape(), seed++));
    const TensorVector want = evaluate_model(*model, inputs);
    const TensorVector got = evaluate_model(*f, inputs);
    auto compiled = std::make_shared<const cpu::CompiledModel>(f, AnyMap{});
    cpu::InferRequest req(compiled);
    for (size_t i = 0; i < inputs.size(); ++i) req.set_input(i, inputs[i]);
    req.infer();
    EXPECT_EQ(want.size(), got.size());
    for (size_t o = 0; o < want.size(); ++o) {
        for (int64_t i = 0; i < want[o].size(); ++i) {
            const float w = want[o].data<float>()[i];
            EXPECT_EQ(got[o].data<float>()[i], w) << "output " << o << " element " << i;
            EXPECT_NEAR(req.output(o).data<float>()[i], w, 1e-4f * (1.f + std::fabs(w)))
                << "output " << o << " element " << i;
        }
    }
    return f;
}

std::shared_ptr<Model> model_of(const OutputVector& outs, std::vector<std::shared_ptr<Node>> ps) {
    return std::make_shared<Model>(outs, std::move(ps));
}

}  // namespace

TEST(FuseConvolution, BiasResidualRelu) {
    auto x = make_parameter(ElementType::f32, Shape{1, 3, 6, 5}, "x");
    auto r = make_parameter(ElementType::f32, Shape{1, 4, 6, 5}, "r");
    auto y = make_op("Relu", {make_op("Add", {bias_of(conv_of(x->output(0)), 4), r->output(0)})});
    fuse_and_compare(model_of({y}, {x, r}), 1, {{"Add", 0}, {"Relu", 0}, {"Convolution", 0}});
}

TEST(FuseConvolution, ResidualFromAnotherConvolutionChain) {
    // The ResNet downsampling block: both Add operands come from conv + bias chains.
    auto x = make_parameter(ElementType::f32, Shape{1, 3, 6, 5}, "x");
    auto main = bias_of(conv_of(x->output(0), 1), 4);
    auto shortcut = bias_of(conv_of(x->output(0), 2), 4);
    auto y = make_op("Relu", {make_op("Add", {main, shortcut})});
    fuse_and_compare(model_of({y}, {x}), 2, {{"Add", 0}, {"Relu", 0}});
}

TEST(FuseConvolution, ClipAsMaximumMinimumAndDepthwise) {
    auto x = make_parameter(ElementType::f32, Shape{1, 3, 6, 5}, "x");
    auto y = make_op("Maximum", {bias_of(depthwise_of(x->output(0)), 3), constant(scalar(0.f))});
    y = make_op("Minimum", {y, constant(scalar(6.f))});
    auto f = fuse_and_compare(model_of({y}, {x}), 1, {{"Maximum", 0}, {"Minimum", 0}});
    for (const auto& n : f->ordered_ops())
        if (n->type() == "FusedConvolution") {
            EXPECT_EQ(n->attrs().get_string("activation"), "clamp");
            EXPECT_EQ(n->attrs().get_float("beta"), 6.0);
        }
}

TEST(FuseConvolution, OtherActivations) {
    auto x = make_parameter(ElementType::f32, Shape{1, 3, 6, 5}, "x");
    auto a = make_op("HSwish", {bias_of(conv_of(x->output(0), 1), 4)});
    auto b = make_op("HardSigmoid", {bias_of(conv_of(x->output(0), 2), 4),
                                     constant(scalar(1.f / 6)), constant(scalar(0.5f))});
    auto c = make_op("Sigmoid", {conv_of(x->output(0), 3)});  // no bias
    auto d =
        make_op("Clamp", {bias_of(depthwise_of(x->output(0)), 3)}, {{"min", -1.0}, {"max", 1.0}});
    auto e = make_op("HSigmoid", {bias_of(conv_of(x->output(0), 4), 4)});
    fuse_and_compare(model_of({a, b, c, d, e}, {x}), 5,
                     {{"HSwish", 0}, {"HardSigmoid", 0}, {"Sigmoid", 0}, {"Clamp", 0}});
}

TEST(FuseConvolution, IntermediateUsedTwiceStopsTheChain) {
    auto x = make_parameter(ElementType::f32, Shape{1, 3, 6, 5}, "x");
    auto biased = bias_of(conv_of(x->output(0)), 4);
    auto y = make_op("Relu", {biased});
    // The biased value is also a model output: conv + bias fuse, the Relu stays.
    fuse_and_compare(model_of({y, biased}, {x}), 1, {{"Relu", 1}, {"Add", 0}});

    auto conv = conv_of(x->output(0));
    auto z = make_op("Relu", {bias_of(conv, 4)});
    auto w = make_op("Sigmoid", {conv});
    fuse_and_compare(model_of({z, w}, {x}), 0, {{"Convolution", 1}, {"Relu", 1}});
}

TEST(FuseConvolution, NonConstantBiasIsNotFused) {
    auto x = make_parameter(ElementType::f32, Shape{1, 3, 6, 5}, "x");
    auto b = make_parameter(ElementType::f32, Shape{1, 4, 1, 1}, "b");
    auto y = make_op("Relu", {make_op("Add", {conv_of(x->output(0)), b->output(0)})});
    fuse_and_compare(model_of({y}, {x, b}), 0, {{"Add", 1}, {"Relu", 1}});
}

TEST(FuseConvolution, BroadcastingAddIsNotAResidual) {
    // [1,4,6,1] broadcasts to the output but is neither per-channel nor of its shape.
    auto x = make_parameter(ElementType::f32, Shape{1, 3, 6, 5}, "x");
    auto r = make_parameter(ElementType::f32, Shape{1, 4, 6, 1}, "r");
    auto y = make_op("Add", {conv_of(x->output(0)), r->output(0)});
    fuse_and_compare(model_of({y}, {x, r}), 0, {{"Add", 1}});
}

TEST(FuseConvolution, RoundTripsThroughIr) {
    auto x = make_parameter(ElementType::f32, Shape{1, 3, 6, 5}, "x");
    auto y = make_op(
        "Minimum", {make_op("Maximum", {bias_of(conv_of(x->output(0)), 4), constant(scalar(0.f))}),
                    constant(scalar(6.f))});
    auto f = fuse_and_compare(model_of({y}, {x}), 1);
    const std::string dir = ::testing::TempDir();
    save_model(*f, dir + "/fused_conv.xml");
    auto back = read_ir(dir + "/fused_conv.xml");
    EXPECT_EQ(count(*back, "FusedConvolution"), 1);
    const Tensor in = random_f32({1, 3, 6, 5}, 3);
    const Tensor a = evaluate_model(*f, {in})[0], b = evaluate_model(*back, {in})[0];
    for (int64_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.data<float>()[i], b.data<float>()[i]);
}
