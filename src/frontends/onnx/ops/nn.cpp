// ONNX translators of the neural-network family: convolutions, pooling, normalizations, MatMul,
// Gemm and Dropout. Bias additions and scalings decompose into elementwise core ops.
#include <cmath>

#include "core/dispatch.hpp"
#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {
namespace {

using Ints = std::vector<int64_t>;

// A scalar constant of a floating element type (so it multiplies or adds without conversion).
Output scalar_of(const NodeContext& ctx, ElementType t, double v) {
    if (t == ElementType::dynamic) t = ElementType::f32;
    Tensor s(t, {});
    dispatch_numeric(t, [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (std::is_same_v<T, bool>) {
            *s.data<T>() = v != 0;
        } else if constexpr (std::is_integral_v<T>) {
            ctx.check(std::isfinite(v) && std::abs(v) < 9e18, "constant ", v,
                      " does not fit the integer input type");
            *s.data<T>() = static_cast<T>(static_cast<int64_t>(v));
        } else if constexpr (std::is_same_v<T, double>) {
            *s.data<T>() = v;
        } else {
            *s.data<T>() = static_cast<T>(static_cast<float>(v));
        }
    });
    return ctx.constant(s);
}

Output ints_const(const NodeContext& ctx, const Ints& v) {
    return ctx.constant(v, Shape{static_cast<int64_t>(v.size())});
}

// Reshapes v to `shape` (one -1 allowed); constants are reshaped directly.
Output reshape(const NodeContext& ctx, const Output& v, const Ints& shape) {
    if (v.node->type() == "Const") {
        const Tensor& t = v.node->value();
        Shape s = shape;
        int64_t known = 1, free_at = -1;
        for (size_t i = 0; i < s.size(); ++i) {
            if (s[i] < 0)
                free_at = static_cast<int64_t>(i);
            else
                known *= s[i];
        }
        if (free_at >= 0) s[free_at] = known ? t.size() / known : 0;
        ctx.check(shape_size(s) == t.size(), "cannot reshape ", describe(t), " to ",
                  to_string(shape));
        return ctx.constant(t.reshaped(s));
    }
    return ctx.op("Reshape", {v, ints_const(ctx, shape)}, {{"special_zero", false}});
}

// Per-channel vector [C] reshaped to [1, C, 1, ...] for a tensor of rank `rank`.
Output channel_vector(const NodeContext& ctx, const Output& v, int64_t rank) {
    Ints s(static_cast<size_t>(rank), 1);
    s[1] = -1;
    return reshape(ctx, v, s);
}

int64_t static_rank(const NodeContext& ctx, const Output& v, const char* what) {
    const PartialShape& s = v.partial_shape();
    ctx.check(s.rank_is_static(), what, " must have a known rank");
    return s.rank();
}

std::string auto_pad_attr(const NodeContext& ctx) {
    const std::string ap = ctx.attr_string("auto_pad", "NOTSET");
    if (ap == "NOTSET" || ap.empty()) return "explicit";
    if (ap == "SAME_UPPER") return "same_upper";
    if (ap == "SAME_LOWER") return "same_lower";
    if (ap == "VALID") return "valid";
    ctx.fail("unknown auto_pad '", ap, "'");
}

// strides, dilations, pads_begin, pads_end and auto_pad of an ONNX conv/pool node.
Attributes window_attrs(const NodeContext& ctx, size_t n, bool dilations = true) {
    const Ints pads = ctx.attr_ints("pads", Ints(2 * n, 0));
    ctx.check(pads.size() == 2 * n, "pads must have ", 2 * n, " values");
    Attributes a{{"strides", ctx.attr_ints("strides", Ints(n, 1))},
                 {"pads_begin", Ints(pads.begin(), pads.begin() + n)},
                 {"pads_end", Ints(pads.begin() + n, pads.end())},
                 {"auto_pad", auto_pad_attr(ctx)}};
    if (dilations) a.set("dilations", ctx.attr_ints("dilations", Ints(n, 1)));
    return a;
}

// Weights [O, C/G, k...] (or [C, O/G, k...] when transposed) grouped as [G, ., ., k...].
Output group_weights(const NodeContext& ctx, const Output& w, int64_t groups, bool transposed) {
    const PartialShape& s = w.partial_shape();
    ctx.check(s.rank_is_static() && s.size() >= 3, "weights must have a known rank >= 3");
    Ints shape{groups, -1};
    for (size_t i = 1; i < s.size(); ++i) {
        ctx.check(s[i].is_static() || (transposed && i == 1),
                  "grouped weights need static dimensions, got ", to_string(s));
        shape.push_back(s[i].value_or(0));
    }
    if (transposed) {
        // [C, O/G, k...] -> [G, C/G, O/G, k...]
        ctx.check(s[0].is_static() && s[0].get_length() % groups == 0,
                  "input channels are not divisible by group");
        shape[1] = s[0].get_length() / groups;
    }
    return reshape(ctx, w, shape);
}

Output add_bias(const NodeContext& ctx, const Output& y, size_t bias_input) {
    if (!ctx.has_input(bias_input)) return y;
    const int64_t rank = static_rank(ctx, y, "output");
    return ctx.op("Add", {y, channel_vector(ctx, ctx.input(bias_input), rank)});
}

OutputVector conv(const NodeContext& ctx) {
    const Output x = ctx.input(0), w = ctx.input(1);
    const int64_t rank = static_rank(ctx, w, "weights");
    ctx.check(rank >= 3, "weights must have rank >= 3");
    const int64_t groups = ctx.attr_int("group", 1);
    ctx.check(groups >= 1, "group must be >= 1");
    const Attributes attrs = window_attrs(ctx, static_cast<size_t>(rank - 2));
    Output y = groups == 1
                   ? ctx.op("Convolution", {x, w}, attrs)
                   : ctx.op("GroupConvolution", {x, group_weights(ctx, w, groups, false)}, attrs);
    return {add_bias(ctx, y, 2)};
}

OutputVector conv_transpose(const NodeContext& ctx) {
    const Output x = ctx.input(0), w = ctx.input(1);
    const int64_t rank = static_rank(ctx, w, "weights");
    ctx.check(rank >= 3, "weights must have rank >= 3");
    const size_t n = static_cast<size_t>(rank - 2);
    const int64_t groups = ctx.attr_int("group", 1);
    ctx.check(groups >= 1, "group must be >= 1");
    Attributes attrs = window_attrs(ctx, n);
    attrs.set("output_padding", ctx.attr_ints("output_padding", Ints(n, 0)));
    OutputVector inputs{x, groups == 1 ? w : group_weights(ctx, w, groups, true)};
    if (ctx.has_attr("output_shape")) {
        Ints os = ctx.attr_ints("output_shape");
        if (os.size() == n + 2) os.erase(os.begin(), os.begin() + 2);
        ctx.check(os.size() == n, "output_shape must have one value per spatial axis");
        inputs.push_back(ints_const(ctx, os));
        // ONNX puts the odd padding element at the start unless SAME_UPPER.
        const bool upper = ctx.attr_string("auto_pad", "NOTSET") == "SAME_UPPER";
        attrs.set("auto_pad", std::string(upper ? "same_upper" : "same_lower"));
    }
    const char* type = groups == 1 ? "ConvolutionBackpropData" : "GroupConvolutionBackpropData";
    return {add_bias(ctx, ctx.op(type, inputs, attrs), 2)};
}

Attributes pool_attrs(const NodeContext& ctx, bool dilations) {
    const Ints kernel = ctx.attr_ints("kernel_shape");
    Attributes a = window_attrs(ctx, kernel.size(), dilations);
    a.set("kernel", kernel);
    a.set("rounding_type", std::string(ctx.attr_int("ceil_mode", 0) ? "ceil" : "floor"));
    return a;
}

// Reverses the spatial axes of a rank-r tensor (a self-inverse permutation).
Output reverse_spatial(const NodeContext& ctx, const Output& v, size_t rank) {
    Ints perm{0, 1};
    for (size_t i = rank; i > 2; --i) perm.push_back(static_cast<int64_t>(i - 1));
    return ctx.op("Transpose", {v, ints_const(ctx, perm)});
}

Ints reversed(Ints v) { return Ints(v.rbegin(), v.rend()); }

OutputVector max_pool(const NodeContext& ctx) {
    Attributes a = pool_attrs(ctx, true);
    a.set("index_element_type", std::string("i64"));
    a.set("axis", int64_t{0});
    if (ctx.attr_int("storage_order", 0) == 0 || !ctx.has_output(1)) {
        OutputVector r = ctx.make("MaxPool", {ctx.input(0)}, a);
        return {r[0], r[1]};
    }
    // Column-major indices: pool the tensor with its spatial axes reversed, whose row-major
    // flat indices are the column-major ones of the original, then reverse back.
    const size_t n = a.get_ints("kernel").size();
    for (const char* name : {"kernel", "strides", "dilations", "pads_begin", "pads_end"})
        a.set(name, reversed(a.get_ints(name)));
    OutputVector r = ctx.make("MaxPool", {reverse_spatial(ctx, ctx.input(0), n + 2)}, a);
    return {reverse_spatial(ctx, r[0], n + 2), reverse_spatial(ctx, r[1], n + 2)};
}

OutputVector average_pool(const NodeContext& ctx) {
    const Ints dil = ctx.attr_ints("dilations", {});
    for (int64_t d : dil) ctx.check(d == 1, "dilated average pooling is not supported");
    Attributes a = pool_attrs(ctx, false);
    a.set("exclude-pad", ctx.attr_int("count_include_pad", 0) == 0);
    return {ctx.op("AvgPool", {ctx.input(0)}, a)};
}

// (sum over the window of |x|^p)^(1/p), via AvgPool with pads counted times the kernel size.
Output lp_pool_of(const NodeContext& ctx, const Output& x, Attributes a, const Ints& kernel,
                  double p) {
    ctx.check(p > 0, "p must be positive");
    const ElementType t = x.element_type();
    a.set("kernel", kernel);
    a.set("exclude-pad", false);
    double k = 1;
    for (int64_t v : kernel) k *= static_cast<double>(v);
    Output powered = ctx.op("Power", {ctx.op("Abs", {x}), scalar_of(ctx, t, p)});
    Output sum = ctx.op("Multiply", {ctx.op("AvgPool", {powered}, a), scalar_of(ctx, t, k)});
    return ctx.op("Power", {sum, scalar_of(ctx, t, 1.0 / p)});
}

OutputVector lp_pool(const NodeContext& ctx) {
    const Ints kernel = ctx.attr_ints("kernel_shape");
    Attributes a = window_attrs(ctx, kernel.size(), false);
    a.set("rounding_type", std::string(ctx.attr_int("ceil_mode", 0) ? "ceil" : "floor"));
    return {lp_pool_of(ctx, ctx.input(0), a, kernel, static_cast<double>(ctx.attr_int("p", 2)))};
}

// Spatial extents of x, which global pooling needs statically.
Ints global_kernel(const NodeContext& ctx, const Output& x) {
    const PartialShape& s = x.partial_shape();
    ctx.check(s.rank_is_static() && s.size() >= 3, "input must have a known rank >= 3");
    Ints k;
    for (size_t i = 2; i < s.size(); ++i) k.push_back(s[i].value_or(-1));
    return k;
}

bool all_static(const Ints& v) {
    for (int64_t d : v)
        if (d < 0) return false;
    return true;
}

// Global pooling: a full-extent window when the spatial extents are known, else a reduction.
OutputVector global_pool(const NodeContext& ctx, const char* pool, const char* reduce) {
    const Output x = ctx.input(0);
    const Ints kernel = global_kernel(ctx, x);
    const size_t n = kernel.size();
    if (all_static(kernel) && n <= 3) {
        Attributes a{{"kernel", kernel},
                     {"strides", Ints(n, 1)},
                     {"pads_begin", Ints(n, 0)},
                     {"pads_end", Ints(n, 0)},
                     {"auto_pad", std::string("explicit")}};
        return {ctx.make(pool, {x}, a)[0]};
    }
    Ints axes;
    for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i + 2));
    return {ctx.op(reduce, {x, ints_const(ctx, axes)}, {{"keep_dims", true}})};
}

OutputVector global_average_pool(const NodeContext& ctx) {
    return global_pool(ctx, "AvgPool", "ReduceMean");
}
OutputVector global_max_pool(const NodeContext& ctx) {
    return global_pool(ctx, "MaxPool", "ReduceMax");
}

OutputVector global_lp_pool(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    const Ints kernel = global_kernel(ctx, x);
    ctx.check(all_static(kernel), "needs static spatial extents");
    const size_t n = kernel.size();
    Attributes a{{"strides", Ints(n, 1)},
                 {"pads_begin", Ints(n, 0)},
                 {"pads_end", Ints(n, 0)},
                 {"auto_pad", std::string("explicit")}};
    return {lp_pool_of(ctx, x, a, kernel, static_cast<double>(ctx.attr_int("p", 2)))};
}

OutputVector batch_norm(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    const double eps = ctx.attr_float("epsilon", 1e-5f);
    const bool training = ctx.attr_int("training_mode", 0) != 0;
    if (!training) {
        Output y =
            ctx.op("BatchNormInference",
                   {x, ctx.input(1), ctx.input(2), ctx.input(3), ctx.input(4)}, {{"epsilon", eps}});
        return {y};
    }
    // Training: normalize with the batch statistics and update the running ones.
    const int64_t rank = static_rank(ctx, x, "input");
    Ints axes{0};
    for (int64_t i = 2; i < rank; ++i) axes.push_back(i);
    const ElementType t = x.element_type();
    const Output axes_c = ints_const(ctx, axes);
    Output mean = ctx.op("ReduceMean", {x, axes_c}, {{"keep_dims", false}});
    Output centered = ctx.op("Subtract", {x, channel_vector(ctx, mean, rank)});
    Output var = ctx.op("ReduceMean", {ctx.op("Multiply", {centered, centered}), axes_c},
                        {{"keep_dims", false}});
    Output y = ctx.op("BatchNormInference", {x, ctx.input(1), ctx.input(2), mean, var},
                      {{"epsilon", eps}});
    const double momentum = ctx.attr_float("momentum", 0.9f);
    auto blend = [&](const Output& running, const Output& current) {
        return ctx.op("Add", {ctx.op("Multiply", {running, scalar_of(ctx, t, momentum)}),
                              ctx.op("Multiply", {current, scalar_of(ctx, t, 1 - momentum)})});
    };
    return {y, blend(ctx.input(3), mean), blend(ctx.input(4), var)};
}

OutputVector instance_norm(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    const int64_t rank = static_rank(ctx, x, "input");
    ctx.check(rank >= 3, "input must have rank >= 3");
    Ints axes;
    for (int64_t i = 2; i < rank; ++i) axes.push_back(i);
    Output y = ctx.op("MVN", {x, ints_const(ctx, axes)},
                      {{"normalize_variance", true},
                       {"eps", double{ctx.attr_float("epsilon", 1e-5f)}},
                       {"eps_mode", std::string("inside_sqrt")}});
    y = ctx.op("Multiply", {y, channel_vector(ctx, ctx.input(1), rank)});
    return {ctx.op("Add", {y, channel_vector(ctx, ctx.input(2), rank)})};
}

OutputVector mean_variance_norm(const NodeContext& ctx) {
    const Ints axes = ctx.attr_ints("axes", {0, 2, 3});
    return {ctx.op("MVN", {ctx.input(0), ints_const(ctx, axes)},
                   {{"normalize_variance", true},
                    {"eps", double{1e-9}},
                    {"eps_mode", std::string("inside_sqrt")}})};
}

// LayerNormalization as MVN over the trailing axes, then scale and bias (OpenVINO's form; the
// CPU device fuses it back into one LayerNorm kernel). The Mean / InvStdDev outputs and
// non-f32 inputs (stash_type casts) take the schema's function body instead.
OutputVector layer_norm(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    if (ctx.has_output(1) || ctx.has_output(2) || x.element_type() != ElementType::f32 ||
        !x.partial_shape().rank_is_static())
        return {};
    const int64_t rank = static_rank(ctx, x, "input");
    int64_t axis = ctx.attr_int("axis", -1);
    if (axis < 0) axis += rank;
    ctx.check(axis >= 0 && axis < rank, "axis ", ctx.attr_int("axis", -1),
              " is out of range for rank ", rank);
    Ints axes;
    for (int64_t i = axis; i < rank; ++i) axes.push_back(i);
    Output y = ctx.op("MVN", {x, ints_const(ctx, axes)},
                      {{"normalize_variance", true},
                       {"eps", double{ctx.attr_float("epsilon", 1e-5f)}},
                       {"eps_mode", std::string("inside_sqrt")}});
    y = ctx.op("Multiply", {y, ctx.input(1)});
    if (ctx.has_input(2)) y = ctx.op("Add", {y, ctx.input(2)});
    return {y};
}

OutputVector lrn(const NodeContext& ctx) {
    return {ctx.op("LRN", {ctx.input(0), ints_const(ctx, {1})},
                   {{"alpha", double{ctx.attr_float("alpha", 1e-4f)}},
                    {"beta", double{ctx.attr_float("beta", 0.75f)}},
                    {"bias", double{ctx.attr_float("bias", 1.0f)}},
                    {"size", ctx.attr_int("size")}})};
}

OutputVector matmul(const NodeContext& ctx) {
    return {ctx.op("MatMul", {ctx.input(0), ctx.input(1)})};
}

OutputVector gemm(const NodeContext& ctx) {
    const Output a = ctx.input(0);
    const ElementType t = a.element_type();
    const double alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
    Output y = ctx.op("MatMul", {a, ctx.input(1)},
                      {{"transpose_a", ctx.attr_int("transA", 0) != 0},
                       {"transpose_b", ctx.attr_int("transB", 0) != 0}});
    if (alpha != 1.0) y = ctx.op("Multiply", {y, scalar_of(ctx, t, alpha)});
    if (ctx.has_input(2) && beta != 0.0) {
        Output c = ctx.input(2);
        if (beta != 1.0) c = ctx.op("Multiply", {c, scalar_of(ctx, t, beta)});
        y = ctx.op("Add", {y, c});
    }
    return {y};
}

// Inference (or a zero ratio): the identity, with an all-true mask. When the mode is only known
// at run time, the Kiln Dropout op decides then.
OutputVector dropout(const NodeContext& ctx) {
    const Output x = ctx.input(0);
    if (ctx.has_input(2) && !ctx.input_constant(2)) {
        const Output ratio =
            ctx.has_input(1) ? ctx.input(1) : scalar_of(ctx, x.element_type(), 0.5);
        OutputVector r = ctx.make("Dropout", {x, ratio, ctx.input(2)});
        return {r[0], r[1]};
    }
    const bool training = ctx.has_input(2) && ctx.input_constant(2)->value_as_int(0) != 0;
    if (training) {
        double ratio = 0.5;
        if (ctx.has_input(1)) {
            const Tensor* r = ctx.input_constant(1);
            ctx.check(r != nullptr, "ratio must be a constant in training mode");
            ratio = r->value_as_double(0);
        }
        ctx.check(ratio == 0.0, "random dropout (training mode, ratio ", ratio,
                  ") is not supported");
    }
    OutputVector r{x};
    if (ctx.has_output(1)) {
        const PartialShape& s = x.partial_shape();
        if (s.is_static()) {
            Tensor mask(ElementType::boolean, s.to_shape());
            for (int64_t i = 0; i < mask.size(); ++i) mask.data<bool>()[i] = true;
            r.push_back(ctx.constant(mask));
        } else {
            r.push_back(
                ctx.op("Broadcast", {ctx.constant(Tensor::scalar(true)), ctx.op("ShapeOf", {x})}));
        }
    }
    return r;
}

}  // namespace

void register_nn_translators(TranslatorRegistry& r) {
    r.add("Conv", conv);
    r.add("ConvTranspose", conv_transpose);
    r.add("MaxPool", max_pool);
    r.add("AveragePool", average_pool);
    r.add("LpPool", lp_pool);
    r.add("GlobalAveragePool", global_average_pool);
    r.add("GlobalMaxPool", global_max_pool);
    r.add("GlobalLpPool", global_lp_pool);
    r.add("BatchNormalization", batch_norm);
    r.add("InstanceNormalization", instance_norm);
    r.add("MeanVarianceNormalization", mean_variance_norm);
    r.add("LayerNormalization", layer_norm);
    r.add("LRN", lrn);
    r.add("MatMul", matmul);
    r.add("Gemm", gemm);
    r.add("Dropout", dropout);
}

}  // namespace kiln::onnx_fe
