#include <gtest/gtest.h>

#include "core/op_def.hpp"
#include "kiln/model.hpp"
#include "ops/reference_executor.hpp"

using namespace kiln;

namespace {

// Runs one node over parameters fed with `inputs`; returns its outputs.
TensorVector run_op(const std::string& type, const TensorVector& inputs, Attributes attrs = {}) {
    std::vector<std::shared_ptr<Node>> params;
    OutputVector args;
    for (const auto& t : inputs) {
        params.push_back(make_parameter(t.element_type(), PartialShape(t.shape())));
        args.push_back(params.back()->output(0));
    }
    auto node = make_node(type, args, std::move(attrs));
    Model m(node->outputs(), params);
    return evaluate_model(m, inputs);
}

template <class T>
std::vector<T> values(const Tensor& t) {
    return std::vector<T>(t.data<T>(), t.data<T>() + t.size());
}

Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector(v, std::move(s)); }

}  // namespace

TEST(Resize, InfersScaledAndSizedShapes) {
    auto x = make_parameter(ElementType::f32, PartialShape({1, 3, Dimension(), 8}));
    auto scales = make_constant(f32({1, 1, 2, 0.5f}, {4}));
    auto y = make_node("Resize", {x->output(0), scales->output(0)},
                       {{"mode", std::string("linear")},
                        {"shape_calculation_mode", std::string("scales")}});
    EXPECT_EQ(to_string(y->output_shape(0)), "[1,3,?,4]");

    auto sizes = make_constant(Tensor::from_vector<int64_t>({5, 7}));
    auto z = make_node("Resize", {x->output(0), sizes->output(0)},
                       {{"shape_calculation_mode", std::string("sizes")},
                        {"axes", std::vector<int64_t>{2, -1}}});
    EXPECT_EQ(to_string(z->output_shape(0)), "[1,3,5,7]");

    auto bad = make_constant(f32({2, 2}, {2}));
    EXPECT_THROW(make_node("Resize", {x->output(0), bad->output(0)}), Error);
}

TEST(Resize, NearestAndLinearValues) {
    Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
    Tensor scales = f32({1, 1, 2, 2}, {4});
    auto near = run_op("Resize", {x, scales},
                       {{"mode", std::string("nearest")},
                        {"coordinate_transformation_mode", std::string("asymmetric")},
                        {"nearest_mode", std::string("floor")}});
    EXPECT_EQ(near[0].shape(), (Shape{1, 1, 4, 4}));
    EXPECT_EQ(values<float>(near[0]),
              (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));

    // align_corners 2 -> 3 along the last axis: 1, 1.5, 2 / 3, 3.5, 4.
    Tensor sizes = Tensor::from_vector<int64_t>({1, 1, 2, 3});
    auto lin = run_op("Resize", {x, sizes},
                      {{"mode", std::string("linear")},
                       {"shape_calculation_mode", std::string("sizes")},
                       {"coordinate_transformation_mode", std::string("align_corners")}});
    EXPECT_EQ(values<float>(lin[0]), (std::vector<float>{1, 1.5f, 2, 3, 3.5f, 4}));
}

TEST(Resize, CropAndResizeExtrapolates) {
    Tensor x = f32({0, 1, 2, 3}, {4});
    Tensor sizes = Tensor::from_vector<int64_t>({3}, {1});
    Tensor roi = f32({0.f, 1.5f}, {2});
    auto y = run_op("Resize", {x, sizes, roi},
                    {{"mode", std::string("linear")},
                     {"shape_calculation_mode", std::string("sizes")},
                     {"coordinate_transformation_mode", std::string("tf_crop_and_resize")},
                     {"extrapolation_value", double{-1}}});
    // Source coordinates 0, 2.25, 4.5 (the last lies outside [0, 3]).
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{0, 2.25f, -1}));
}

TEST(GridSample, BilinearIdentityAndZerosPadding) {
    Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
    // align_corners: (-1,-1) is pixel (0,0); (1,1) is (1,1); (3,0) is outside.
    Tensor grid = f32({-1, -1, 1, 1, 0, 0, 3, 0}, {1, 2, 2, 2});
    auto y = run_op("GridSample", {x, grid},
                    {{"align_corners", true}, {"mode", std::string("bilinear")}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 2, 2}));
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{1, 4, 2.5f, 0}));

    auto bad = make_parameter(ElementType::f32, PartialShape({1, 2, 2, 3}));
    auto xp = make_parameter(ElementType::f32, PartialShape({1, 1, 2, 2}));
    EXPECT_THROW(make_node("GridSample", {xp->output(0), bad->output(0)}), Error);
}

TEST(ROIAlign, AveragesBilinearSamples) {
    Tensor x = f32({0, 1, 2, 3, 4, 5, 6, 7, 8}, {1, 1, 3, 3});
    Tensor rois = f32({0, 0, 2, 2}, {1, 4});
    Tensor idx = Tensor::from_vector<int64_t>({0}, {1});
    auto y = run_op("ROIAlign", {x, rois, idx},
                    {{"pooled_h", int64_t{1}},
                     {"pooled_w", int64_t{1}},
                     {"sampling_ratio", int64_t{1}},
                     {"aligned_mode", std::string("asymmetric")}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 1, 1}));
    EXPECT_FLOAT_EQ(y[0].data<float>()[0], 4.f);  // the centre sample (1, 1)

    Tensor bad_idx = Tensor::from_vector<int64_t>({3}, {1});
    EXPECT_THROW(run_op("ROIAlign", {x, rois, bad_idx}, {{"sampling_ratio", int64_t{1}}}), Error);
}

TEST(MaxUnpool, ScattersAndChecksIndices) {
    Tensor x = f32({7, 9}, {1, 1, 1, 2});
    Tensor i = Tensor::from_vector<int64_t>({1, 2}, {1, 1, 1, 2});
    Attributes a{{"kernel_shape", std::vector<int64_t>{1, 2}},
                 {"strides", std::vector<int64_t>{1, 2}}};
    auto y = run_op("MaxUnpool", {x, i}, a);
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{0, 7, 9, 0}));
    Tensor bad = Tensor::from_vector<int64_t>({1, 4}, {1, 1, 1, 2});
    EXPECT_THROW(run_op("MaxUnpool", {x, bad}, a), Error);
}

TEST(QuantizeLinear, RoundsHalfToEvenAndSaturates) {
    Tensor x = f32({0.5f, 1.5f, 2.5f, -3.f, 1000.f, -1000.f}, {6});
    Tensor scale = Tensor::scalar(1.f);
    Tensor zp = Tensor::scalar(uint8_t{10});
    auto y = run_op("QuantizeLinear", {x, scale, zp});
    EXPECT_EQ(y[0].element_type(), ElementType::u8);
    EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{10, 12, 12, 7, 255, 0}));

    Tensor zi = Tensor::scalar(int8_t{0});
    auto s = run_op("QuantizeLinear", {x, scale, zi});
    EXPECT_EQ(values<int8_t>(s[0]), (std::vector<int8_t>{0, 2, 2, -3, 127, -128}));
}

TEST(QuantizeLinear, PerAxisRoundTrip) {
    Tensor x = f32({1, 2, 3, 4}, {2, 2});
    Tensor scale = f32({1, 2}, {2});
    Tensor zp = Tensor::from_vector<uint8_t>({0, 1});
    auto q = run_op("QuantizeLinear", {x, scale, zp}, {{"axis", int64_t{0}}});
    EXPECT_EQ(values<uint8_t>(q[0]), (std::vector<uint8_t>{1, 2, 3, 3}));  // 3/2 = 1.5 -> 2, +1
    auto d = run_op("DequantizeLinear", {q[0], scale, zp}, {{"axis", int64_t{0}}});
    EXPECT_EQ(values<float>(d[0]), (std::vector<float>{1, 2, 4, 4}));

    Tensor wrong = f32({1, 2, 3}, {3});
    EXPECT_THROW(run_op("QuantizeLinear", {x, wrong}), Error);
}

TEST(DynamicQuantizeLinear, ComputesScaleAndZeroPoint) {
    Tensor x = f32({0, 2, -3, -2.5f, 1.34f, 0.5f}, {6});
    auto y = run_op("DynamicQuantizeLinear", {x});
    ASSERT_EQ(y.size(), 3u);
    EXPECT_FLOAT_EQ(y[1].data<float>()[0], 5.f / 255.f);
    EXPECT_EQ(y[2].data<uint8_t>()[0], 153);
    EXPECT_EQ(values<uint8_t>(y[0]), (std::vector<uint8_t>{153, 255, 0, 26, 221, 179}));
}

TEST(MatMulInteger, SubtractsZeroPoints) {
    Tensor a = Tensor::from_vector<uint8_t>({11, 7, 3, 10, 6, 2}, {2, 3});
    Tensor b = Tensor::from_vector<uint8_t>({1, 4, 2, 5, 3, 6}, {3, 2});
    Tensor azp = Tensor::scalar(uint8_t{12});
    Tensor bzp = Tensor::scalar(uint8_t{0});
    auto y = run_op("MatMulInteger", {a, b, azp, bzp});
    EXPECT_EQ(y[0].shape(), (Shape{2, 2}));
    EXPECT_EQ(values<int32_t>(y[0]), (std::vector<int32_t>{-38, -83, -44, -98}));

    auto p = make_parameter(ElementType::u8, PartialShape({2, 3}));
    auto q = make_parameter(ElementType::u8, PartialShape({4, 2}));
    EXPECT_THROW(make_node("MatMulInteger", {p->output(0), q->output(0)}), Error);
}

TEST(ConvInteger, PadsWithTheZeroPoint) {
    Tensor x = Tensor::from_vector<uint8_t>({2, 3, 4, 5, 6, 7, 8, 9, 10}, {1, 1, 3, 3});
    Tensor w = Tensor::from_vector<uint8_t>({1, 1, 1, 1}, {1, 1, 2, 2});
    Tensor xzp = Tensor::scalar(uint8_t{1});
    Tensor wzp = Tensor::scalar(uint8_t{0});
    auto y = run_op("ConvInteger", {x, w, xzp, wzp},
                    {{"pads_begin", std::vector<int64_t>{1, 1}},
                     {"pads_end", std::vector<int64_t>{1, 1}}});
    EXPECT_EQ(y[0].shape(), (Shape{1, 1, 4, 4}));
    EXPECT_EQ(values<int32_t>(y[0]),
              (std::vector<int32_t>{1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}));
}

TEST(FakeQuantize, SnapsToLevels) {
    Tensor x = f32({-1, 0.1f, 0.4f, 0.6f, 2}, {5});
    Tensor lo = Tensor::scalar(0.f), hi = Tensor::scalar(1.f);
    Tensor olo = Tensor::scalar(0.f), ohi = Tensor::scalar(10.f);
    auto y = run_op("FakeQuantize", {x, lo, hi, olo, ohi}, {{"levels", int64_t{3}}});
    EXPECT_EQ(values<float>(y[0]), (std::vector<float>{0, 0, 5, 5, 10}));
    EXPECT_THROW(run_op("FakeQuantize", {x, lo, hi, olo, ohi}, {{"levels", int64_t{1}}}), Error);
}
