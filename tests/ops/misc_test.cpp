#include <gtest/gtest.h>

#include <cmath>

#include "kiln/model.hpp"
#include "kiln/node.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

TensorVector run_node(const std::shared_ptr<Node>& n, std::vector<std::shared_ptr<Node>> params,
                      const TensorVector& inputs) {
    Model m(n->outputs(), std::move(params));
    return evaluate_model(m, inputs);
}

Output i64s(std::vector<int64_t> v) {
    Shape s{static_cast<int64_t>(v.size())};
    return make_constant(Tensor::from_vector(v, s))->output(0);
}

}  // namespace

TEST(MiscShape, DftShapes) {
    auto p = make_parameter(ElementType::f32, PartialShape({3, 8, 2}), "x");
    auto d = make_node("DFT", {p->output(0), i64s({1}), i64s({5})});
    EXPECT_EQ(to_string(d->output_shape(0)), "[3,5,2]");
    auto r = make_parameter(ElementType::f32, PartialShape({3, 8}), "r");
    auto rd = make_node("RDFT", {r->output(0), i64s({-1})});
    EXPECT_EQ(to_string(rd->output_shape(0)), "[3,5,2]");
    EXPECT_THROW(make_node("DFT", {p->output(0), i64s({2})}), Error);  // axis beyond signal rank
    EXPECT_THROW(make_node("DFT", {r->output(0), i64s({0})}), Error);  // last axis is not 2
}

TEST(MiscEval, DftOfImpulseIsFlat) {
    auto p = make_parameter(ElementType::f32, PartialShape({4, 2}), "x");
    auto d = make_node("DFT", {p->output(0), i64s({0})});
    Tensor x = Tensor::from_vector<float>({1, 0, 0, 0, 0, 0, 0, 0}, {4, 2});
    Tensor y = run_node(d, {p}, {x})[0];
    for (int i = 0; i < 4; ++i) {
        EXPECT_NEAR(y.data<float>()[2 * i], 1.f, 1e-6);
        EXPECT_NEAR(y.data<float>()[2 * i + 1], 0.f, 1e-6);
    }
    auto inv = make_node("IDFT", {p->output(0), i64s({0})});
    Tensor flat = Tensor::from_vector<float>({1, 0, 1, 0, 1, 0, 1, 0}, {4, 2});
    Tensor back = run_node(inv, {p}, {flat})[0];
    EXPECT_NEAR(back.data<float>()[0], 1.f, 1e-6);
    EXPECT_NEAR(back.data<float>()[2], 0.f, 1e-6);
}

TEST(MiscEval, StftRectangularWindow) {
    auto p = make_parameter(ElementType::f32, PartialShape({1, 8}), "x");
    auto w = make_constant(Tensor::from_vector<float>({1, 1, 1, 1}, {4}))->output(0);
    auto n = make_node("STFT", {p->output(0), w,
                                make_constant(Tensor::scalar<int64_t>(4))->output(0),
                                make_constant(Tensor::scalar<int64_t>(4))->output(0)});
    EXPECT_EQ(to_string(n->output_shape(0)), "[1,2,3,2]");
    Tensor x = Tensor::from_vector<float>({1, 1, 1, 1, 1, 2, 3, 4}, {1, 8});
    Tensor y = run_node(n, {p}, {x})[0];
    EXPECT_NEAR(y.data<float>()[0], 4.f, 1e-5);   // frame 0, DC
    EXPECT_NEAR(y.data<float>()[2], 0.f, 1e-5);   // frame 0, bin 1 real
    EXPECT_NEAR(y.data<float>()[6], 10.f, 1e-5);  // frame 1, DC
}

TEST(MiscEval, StringNormalizer) {
    auto p = make_parameter(ElementType::string, PartialShape({4}), "s");
    auto n = make_node("StringNormalizer", {p->output(0)},
                       {{"case_change_action", std::string("UPPER")},
                        {"stopwords", std::vector<std::string>{"monday"}}});
    Tensor x(ElementType::string, {4});
    const char* words[] = {"Monday", "tuesday", "wednesday", "monday"};
    for (int i = 0; i < 4; ++i) x.data<std::string>()[i] = words[i];
    Tensor y = run_node(n, {p}, {x})[0];
    ASSERT_EQ(y.shape(), Shape({2}));
    EXPECT_EQ(y.data<std::string>()[0], "TUESDAY");
    EXPECT_EQ(y.data<std::string>()[1], "WEDNESDAY");
    EXPECT_THROW(make_node("StringNormalizer", {p->output(0)},
                           {{"case_change_action", std::string("TITLE")}}),
                 Error);
}

TEST(MiscEval, TfIdfBigramsAndMel) {
    auto p = make_parameter(ElementType::i32, PartialShape({5}), "t");
    auto n = make_node("TfIdfVectorizer", {p->output(0)},
                       {{"mode", std::string("TF")},
                        {"min_gram_length", int64_t{1}},
                        {"max_gram_length", int64_t{2}},
                        {"max_skip_count", int64_t{0}},
                        {"ngram_counts", std::vector<int64_t>{0, 2}},
                        {"ngram_indexes", std::vector<int64_t>{0, 1, 2}},
                        {"pool_int64s", std::vector<int64_t>{1, 2, 1, 2}}});
    Tensor x = Tensor::from_vector<int32_t>({1, 2, 1, 2, 2}, {5});
    Tensor y = run_node(n, {p}, {x})[0];
    ASSERT_EQ(y.shape(), Shape({3}));
    EXPECT_EQ(y.data<float>()[0], 2.f);  // "1"
    EXPECT_EQ(y.data<float>()[1], 3.f);  // "2"
    EXPECT_EQ(y.data<float>()[2], 2.f);  // "1 2"

    auto c = [](int32_t v) { return make_constant(Tensor::scalar<int32_t>(v))->output(0); };
    auto f = [](float v) { return make_constant(Tensor::scalar<float>(v))->output(0); };
    auto mel = make_node("MelWeightMatrix", {c(8), c(16), c(8192), f(0), f(4096)});
    EXPECT_EQ(to_string(mel->output_shape(0)), "[9,8]");
}

TEST(MiscEval, HannWindow) {
    auto size = make_constant(Tensor::scalar<int64_t>(4))->output(0);
    auto n = make_node("HannWindow", {size}, {{"periodic", true}});
    EXPECT_EQ(to_string(n->output_shape(0)), "[4]");
    Tensor y = run_node(n, {}, {})[0];
    const float expected[] = {0.f, 0.5f, 1.f, 0.5f};
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(y.data<float>()[i], expected[i], 1e-6);
    EXPECT_THROW(make_node("HannWindow", {make_constant(Tensor::scalar<int64_t>(-1))->output(0)}),
                 Error);
}
