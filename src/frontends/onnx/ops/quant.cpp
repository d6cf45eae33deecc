// ONNX quantization and image-geometry translators: Resize, Upsample, GridSample, RoiAlign,
// MaxUnpool, QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger,
// QLinearMatMul, ConvInteger, QLinearConv.
#include <cctype>

#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {
namespace {

bool is_empty_constant(const NodeContext& ctx, size_t i) {
    const Tensor* t = ctx.input_constant(i);
    return t && t->size() == 0;
}

Attributes resize_attrs(const NodeContext& ctx, const std::string& ctm_default) {
    Attributes a;
    a.set("mode", ctx.attr_string("mode", "nearest"));
    a.set("coordinate_transformation_mode",
          ctx.attr_string("coordinate_transformation_mode", ctm_default));
    a.set("nearest_mode", ctx.attr_string("nearest_mode", "round_prefer_floor"));
    a.set("cubic_coeff_a", double{ctx.attr_float("cubic_coeff_a", -0.75f)});
    a.set("exclude_outside", int64_t{ctx.attr_int("exclude_outside", 0)});
    a.set("extrapolation_value", double{ctx.attr_float("extrapolation_value", 0.f)});
    a.set("keep_aspect_ratio_policy", ctx.attr_string("keep_aspect_ratio_policy", "stretch"));
    if (ctx.has_attr("axes")) a.set("axes", ctx.attr_ints("axes"));
    return a;
}

OutputVector resize(const NodeContext& ctx) {
    if (ctx.opset() < 11) {
        // Resize-10: (X, scales), asymmetric coordinates.
        Attributes a = resize_attrs(ctx, "asymmetric");
        a.set("coordinate_transformation_mode", std::string("asymmetric"));
        a.set("nearest_mode", std::string("floor"));
        a.set("shape_calculation_mode", std::string("scales"));
        return {ctx.op("Resize", {ctx.input(0), ctx.input(1)}, a)};
    }
    Attributes a = resize_attrs(ctx, "half_pixel");
    const bool scales = ctx.has_input(2) && !is_empty_constant(ctx, 2);
    const bool sizes = ctx.has_input(3) && !is_empty_constant(ctx, 3);
    ctx.check(scales != sizes, "exactly one of scales and sizes must be given");
    a.set("shape_calculation_mode", std::string(scales ? "scales" : "sizes"));
    OutputVector in{ctx.input(0), ctx.input(scales ? 2 : 3)};
    if (a.get_string("coordinate_transformation_mode") == "tf_crop_and_resize") {
        ctx.check(ctx.has_input(1), "tf_crop_and_resize needs a roi");
        in.push_back(ctx.input(1));
    }
    return {ctx.op("Resize", in, a)};
}

OutputVector upsample(const NodeContext& ctx) {
    std::string mode = ctx.attr_string("mode", "nearest");
    if (mode == "bilinear") mode = "linear";
    Attributes a{{"mode", mode},
                 {"coordinate_transformation_mode", std::string("asymmetric")},
                 {"nearest_mode", std::string("floor")},
                 {"shape_calculation_mode", std::string("scales")}};
    Output scales;
    if (ctx.has_input(1)) {
        scales = ctx.input(1);
    } else {
        std::vector<float> s = ctx.attr_floats("scales");
        scales = ctx.constant(s, Shape{static_cast<int64_t>(s.size())});
    }
    return {ctx.op("Resize", {ctx.input(0), scales}, a)};
}

OutputVector grid_sample(const NodeContext& ctx) {
    std::string mode = ctx.attr_string("mode", "bilinear");
    if (mode == "linear") mode = "bilinear";  // opset 20 spelling
    if (mode == "cubic") mode = "bicubic";
    return {ctx.op("GridSample", {ctx.input(0), ctx.input(1)},
                   {{"align_corners", ctx.attr_int("align_corners", 0) != 0},
                    {"mode", mode},
                    {"padding_mode", ctx.attr_string("padding_mode", "zeros")}})};
}

OutputVector roi_align(const NodeContext& ctx) {
    const std::string ctm = ctx.attr_string("coordinate_transformation_mode",
                                            ctx.opset() >= 16 ? "half_pixel" : "output_half_pixel");
    ctx.check(ctm == "half_pixel" || ctm == "output_half_pixel",
              "unknown coordinate_transformation_mode '", ctm, "'");
    return {ctx.op("ROIAlign", {ctx.input(0), ctx.input(1), ctx.input(2)},
                   {{"pooled_h", int64_t{ctx.attr_int("output_height", 1)}},
                    {"pooled_w", int64_t{ctx.attr_int("output_width", 1)}},
                    {"sampling_ratio", int64_t{ctx.attr_int("sampling_ratio", 0)}},
                    {"spatial_scale", double{ctx.attr_float("spatial_scale", 1.f)}},
                    {"mode", ctx.attr_string("mode", "avg")},
                    {"aligned_mode", std::string(ctm == "half_pixel" ? "half_pixel" : "asymmetric")}})};
}

OutputVector max_unpool(const NodeContext& ctx) {
    Attributes a{{"kernel_shape", ctx.attr_ints("kernel_shape")}};
    if (ctx.has_attr("strides")) a.set("strides", ctx.attr_ints("strides"));
    if (ctx.has_attr("pads")) a.set("pads", ctx.attr_ints("pads"));
    OutputVector in{ctx.input(0), ctx.input(1)};
    if (ctx.has_input(2)) in.push_back(ctx.input(2));
    return {ctx.op("MaxUnpool", in, a)};
}

OutputVector quantize_linear(const NodeContext& ctx) {
    OutputVector in{ctx.input(0), ctx.input(1)};
    if (ctx.has_input(2)) in.push_back(ctx.input(2));
    return {ctx.op("QuantizeLinear", in, {{"axis", int64_t{ctx.attr_int("axis", 1)}}})};
}

OutputVector dequantize_linear(const NodeContext& ctx) {
    OutputVector in{ctx.input(0), ctx.input(1)};
    if (ctx.has_input(2)) in.push_back(ctx.input(2));
    return {ctx.op("DequantizeLinear", in, {{"axis", int64_t{ctx.attr_int("axis", 1)}}})};
}

OutputVector dynamic_quantize_linear(const NodeContext& ctx) {
    return ctx.make("DynamicQuantizeLinear", {ctx.input(0)});
}

// Zero point input i, or a zero of the matching type when absent.
Output zero_point(const NodeContext& ctx, size_t i, size_t data) {
    if (ctx.has_input(i)) return ctx.input(i);
    if (ctx.input(data).element_type() == ElementType::i8) return ctx.scalar(int8_t{0});
    return ctx.scalar(uint8_t{0});
}

OutputVector matmul_integer(const NodeContext& ctx) {
    return {ctx.op("MatMulInteger",
                   {ctx.input(0), ctx.input(1), zero_point(ctx, 2, 0), zero_point(ctx, 3, 1)})};
}

OutputVector qlinear_matmul(const NodeContext& ctx) {
    // a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp
    Output acc = ctx.op("MatMulInteger",
                        {ctx.input(0), ctx.input(3), zero_point(ctx, 2, 0), zero_point(ctx, 5, 3)});
    return {ctx.op("Requantize",
                   {acc, ctx.input(1), ctx.input(4), ctx.input(6), zero_point(ctx, 7, 0)},
                   {{"axis", int64_t{-1}}})};
}

Attributes conv_attrs(const NodeContext& ctx, size_t weight) {
    const PartialShape& w = ctx.input(weight).partial_shape();
    size_t sp = 0;
    if (ctx.has_attr("kernel_shape")) {
        sp = ctx.attr_ints("kernel_shape").size();
    } else {
        ctx.check(w.rank_is_static() && w.rank() >= 3, "needs kernel_shape or a weight of known rank");
        sp = static_cast<size_t>(w.rank() - 2);
    }
    std::vector<int64_t> pads = ctx.attr_ints("pads", std::vector<int64_t>(2 * sp, 0));
    ctx.check(pads.size() == 2 * sp, "pads must have ", 2 * sp, " values");
    std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
    for (auto& ch : auto_pad) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (auto_pad == "notset") auto_pad = "explicit";
    return {{"strides", ctx.attr_ints("strides", std::vector<int64_t>(sp, 1))},
            {"dilations", ctx.attr_ints("dilations", std::vector<int64_t>(sp, 1))},
            {"pads_begin", std::vector<int64_t>(pads.begin(), pads.begin() + sp)},
            {"pads_end", std::vector<int64_t>(pads.begin() + sp, pads.end())},
            {"auto_pad", auto_pad},
            {"group", int64_t{ctx.attr_int("group", 1)}}};
}

OutputVector conv_integer(const NodeContext& ctx) {
    return {ctx.op("ConvInteger",
                   {ctx.input(0), ctx.input(1), zero_point(ctx, 2, 0), zero_point(ctx, 3, 1)},
                   conv_attrs(ctx, 1))};
}

OutputVector qlinear_conv(const NodeContext& ctx) {
    // x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B
    OutputVector in{ctx.input(0), ctx.input(3), zero_point(ctx, 2, 0), zero_point(ctx, 5, 3)};
    if (ctx.has_input(8)) in.push_back(ctx.input(8));
    Output acc = ctx.op("ConvInteger", in, conv_attrs(ctx, 3));
    return {ctx.op("Requantize",
                   {acc, ctx.input(1), ctx.input(4), ctx.input(6), zero_point(ctx, 7, 0)},
                   {{"axis", int64_t{1}}})};
}

}  // namespace

void register_quant_translators(TranslatorRegistry& r) {
    r.add("Resize", resize);
    r.add("Upsample", upsample);
    r.add("GridSample", grid_sample);
    r.add("RoiAlign", roi_align);
    r.add("MaxUnpool", max_unpool);
    r.add("QuantizeLinear", quantize_linear);
    r.add("DequantizeLinear", dequantize_linear);
    r.add("DynamicQuantizeLinear", dynamic_quantize_linear);
    r.add("MatMulInteger", matmul_integer);
    r.add("QLinearMatMul", qlinear_matmul);
    r.add("ConvInteger", conv_integer);
    r.add("QLinearConv", qlinear_conv);
}

}  // namespace kiln::onnx_fe
