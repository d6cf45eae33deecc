// ONNX data-movement operators mapped onto core ops (Reshape, Gather, Slice, Pad, ...).
#include <algorithm>
#include <limits>

#include "core/dispatch.hpp"
#include "frontends/onnx/tensor_proto.hpp"
#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {
namespace {

using Ints = std::vector<int64_t>;

Output i64_const(const NodeContext& ctx, const Ints& v) {
    return ctx.constant(v, Shape{static_cast<int64_t>(v.size())});
}

// Axes given as an attribute (older opsets) or as an optional input (opset 13+).
std::optional<Output> axes_input(const NodeContext& ctx, size_t input) {
    if (ctx.has_input(input)) return ctx.input(input);
    if (ctx.has_attr("axes")) return i64_const(ctx, ctx.attr_ints("axes"));
    return std::nullopt;
}

OutputVector reshape(const NodeContext& ctx) {
    const bool allowzero = ctx.attr_int("allowzero", 0) != 0;
    Output shape = ctx.has_input(1) ? ctx.input(1) : i64_const(ctx, ctx.attr_ints("shape"));
    return {ctx.op("Reshape", {ctx.input(0), shape}, {{"special_zero", !allowzero}})};
}

OutputVector transpose(const NodeContext& ctx) {
    Output data = ctx.input(0);
    Ints perm = ctx.attr_ints("perm", {});
    if (perm.empty()) {
        const PartialShape& s = data.partial_shape();
        if (s.rank_is_static())
            for (int64_t i = s.rank() - 1; i >= 0; --i) perm.push_back(i);
    }
    return {ctx.op("Transpose", {data, i64_const(ctx, perm)})};
}

// Shape with optional start/end (opset 15), folded to a constant when the shape is static.
OutputVector shape(const NodeContext& ctx) {
    Output data = ctx.input(0);
    const PartialShape& s = data.partial_shape();
    const bool sliced = ctx.has_attr("start") || ctx.has_attr("end");
    if (s.is_static()) {
        Shape dims = s.to_shape();
        const int64_t r = static_cast<int64_t>(dims.size());
        auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + r : v, 0, r); };
        const int64_t b = clamp(ctx.attr_int("start", 0)), e = clamp(ctx.attr_int("end", r));
        Ints v(dims.begin() + b, dims.begin() + std::max(b, e));
        return {i64_const(ctx, v)};
    }
    Output out = ctx.op("ShapeOf", {data}, {{"output_type", std::string("i64")}});
    if (!sliced) return {out};
    return {ctx.op("Slice", {out, i64_const(ctx, {ctx.attr_int("start", 0)}),
                             i64_const(ctx, {ctx.attr_int("end", INT64_MAX)}),
                             i64_const(ctx, {1}), i64_const(ctx, {0})})};
}

OutputVector size(const NodeContext& ctx) {
    Output data = ctx.input(0);
    if (data.partial_shape().is_static())
        return {ctx.constant(Tensor::scalar<int64_t>(shape_size(data.partial_shape().to_shape())))};
    Output s = ctx.op("ShapeOf", {data}, {{"output_type", std::string("i64")}});
    return {ctx.op("ReduceProd", {s, i64_const(ctx, {0})}, {{"keep_dims", false}})};
}

OutputVector concat(const NodeContext& ctx) {
    return {ctx.op("Concat", ctx.inputs(), {{"axis", ctx.attr_int("axis")}})};
}

OutputVector gather(const NodeContext& ctx) {
    return {ctx.op("Gather", {ctx.input(0), ctx.input(1), ctx.scalar<int64_t>(ctx.attr_int("axis", 0))},
                   {{"batch_dims", int64_t{0}}})};
}

OutputVector gather_elements(const NodeContext& ctx) {
    return {ctx.op("GatherElements", {ctx.input(0), ctx.input(1)},
                   {{"axis", ctx.attr_int("axis", 0)}})};
}

OutputVector gather_nd(const NodeContext& ctx) {
    return {ctx.op("GatherND", {ctx.input(0), ctx.input(1)},
                   {{"batch_dims", ctx.attr_int("batch_dims", 0)}})};
}

OutputVector squeeze(const NodeContext& ctx) {
    auto axes = axes_input(ctx, 1);
    if (!axes) return {ctx.op("Squeeze", {ctx.input(0)})};
    return {ctx.op("Squeeze", {ctx.input(0), *axes})};
}

OutputVector unsqueeze(const NodeContext& ctx) {
    auto axes = axes_input(ctx, 1);
    ctx.check(axes.has_value(), "needs axes");
    return {ctx.op("Unsqueeze", {ctx.input(0), *axes})};
}

// Ones shaped like `like` (a 1-D integer tensor), for a missing Slice steps input.
Output ones_like(const NodeContext& ctx, const Output& like) {
    if (const auto& s = like.partial_shape(); s.is_static())
        return i64_const(ctx, Ints(static_cast<size_t>(shape_size(s.to_shape())), 1));
    Output n = ctx.op("ShapeOf", {like}, {{"output_type", std::string("i64")}});
    return ctx.op("Broadcast", {ctx.scalar<int64_t>(1), n}, {{"mode", std::string("numpy")}});
}

OutputVector slice(const NodeContext& ctx) {
    Output data = ctx.input(0);
    if (ctx.opset() < 10 && !ctx.has_input(1)) {  // attribute form
        Ints starts = ctx.attr_ints("starts"), ends = ctx.attr_ints("ends");
        OutputVector in = {data, i64_const(ctx, starts), i64_const(ctx, ends),
                           i64_const(ctx, Ints(starts.size(), 1))};
        if (ctx.has_attr("axes")) in.push_back(i64_const(ctx, ctx.attr_ints("axes")));
        return {ctx.op("Slice", in)};
    }
    Output starts = ctx.input(1), ends = ctx.input(2);
    Output steps = ctx.has_input(4) ? ctx.input(4) : ones_like(ctx, starts);
    OutputVector in = {data, starts, ends, steps};
    if (ctx.has_input(3)) in.push_back(ctx.input(3));
    return {ctx.op("Slice", in)};
}

OutputVector constant(const NodeContext& ctx) {
    if (ctx.has_attr("value")) return {ctx.constant(ctx.attr_tensor("value"))};
    if (ctx.has_attr("value_float")) return {ctx.constant(Tensor::scalar(ctx.attr_float("value_float")))};
    if (ctx.has_attr("value_int")) return {ctx.constant(Tensor::scalar<int64_t>(ctx.attr_int("value_int")))};
    if (ctx.has_attr("value_string"))
        return {ctx.constant(Tensor::scalar(ctx.attr_string("value_string")))};
    if (ctx.has_attr("value_floats")) {
        auto v = ctx.attr_floats("value_floats");
        return {ctx.constant(v, Shape{static_cast<int64_t>(v.size())})};
    }
    if (ctx.has_attr("value_ints")) return {i64_const(ctx, ctx.attr_ints("value_ints"))};
    if (ctx.has_attr("value_strings")) {
        auto v = ctx.attr_strings("value_strings");
        return {ctx.constant(v, Shape{static_cast<int64_t>(v.size())})};
    }
    ctx.fail("has no supported value attribute (sparse_value is not supported)");
}

// Flatten to 2-D [prod(d[:axis]), prod(d[axis:])].
OutputVector flatten(const NodeContext& ctx) {
    Output data = ctx.input(0);
    const PartialShape& s = data.partial_shape();
    ctx.check(s.rank_is_static(), "needs an input of known rank");
    const int64_t r = s.rank();
    int64_t axis = ctx.attr_int("axis", 1);
    ctx.check(axis >= -r && axis <= r, "axis ", axis, " is out of range for rank ", r);
    if (axis < 0) axis += r;
    auto known = [&](int64_t b, int64_t e) -> std::optional<int64_t> {
        int64_t p = 1;
        for (int64_t i = b; i < e; ++i) {
            if (s[i].is_dynamic()) return std::nullopt;
            p *= s[i].get_length();
        }
        return p;
    };
    auto head = known(0, axis), tail = known(axis, r);
    Ints target;
    if (head && tail) target = {*head, *tail};
    else if (head && *head != 0) target = {*head, -1};
    else if (tail && *tail != 0) target = {-1, *tail};
    if (!target.empty())
        return {ctx.op("Reshape", {data, i64_const(ctx, target)}, {{"special_zero", false}})};
    Output sh = ctx.op("ShapeOf", {data}, {{"output_type", std::string("i64")}});
    auto part = [&](int64_t b, int64_t e) {
        Output p = ctx.op("Slice", {sh, i64_const(ctx, {b}), i64_const(ctx, {e}),
                                    i64_const(ctx, {1}), i64_const(ctx, {0})});
        return ctx.op("ReduceProd", {p, i64_const(ctx, {0})}, {{"keep_dims", true}});
    };
    Output t = ctx.op("Concat", {part(0, axis), part(axis, r)}, {{"axis", int64_t{0}}});
    return {ctx.op("Reshape", {data, t}, {{"special_zero", false}})};
}

OutputVector split(const NodeContext& ctx) {
    Output data = ctx.input(0);
    Output axis = ctx.scalar<int64_t>(ctx.attr_int("axis", 0));
    std::optional<Output> lengths;
    if (ctx.has_input(1)) lengths = ctx.input(1);
    else if (ctx.has_attr("split")) lengths = i64_const(ctx, ctx.attr_ints("split"));
    if (lengths) return ctx.make("VariadicSplit", {data, axis, *lengths});
    const int64_t n = ctx.attr_int("num_outputs", static_cast<int64_t>(ctx.output_count()));
    const PartialShape& s = data.partial_shape();
    if (s.rank_is_static()) {
        int64_t a = ctx.attr_int("axis", 0);
        if (a < 0) a += s.rank();
        if (a >= 0 && a < s.rank() && s[a].is_static() && s[a].get_length() % n != 0) {
            // opset 18: the last chunk is smaller.
            const int64_t chunk = (s[a].get_length() + n - 1) / n;
            Ints l(n, chunk);
            l.back() = s[a].get_length() - chunk * (n - 1);
            return ctx.make("VariadicSplit", {data, axis, i64_const(ctx, l)});
        }
    }
    return ctx.make("Split", {data, axis}, {{"num_splits", n}});
}

OutputVector expand(const NodeContext& ctx) {
    return {ctx.op("Broadcast", {ctx.input(0), ctx.input(1)},
                   {{"mode", std::string("bidirectional")}})};
}

OutputVector tile(const NodeContext& ctx) { return {ctx.op("Tile", {ctx.input(0), ctx.input(1)})}; }

OutputVector constant_of_shape(const NodeContext& ctx) {
    Tensor v = ctx.has_attr("value") ? ctx.attr_tensor("value") : Tensor::scalar(0.0f);
    ctx.check(v.size() == 1, "value must hold one element");
    v = v.reshaped({});
    return {ctx.op("Broadcast", {ctx.constant(v), ctx.input(0)}, {{"mode", std::string("numpy")}})};
}


// Pad: pads [b1..bn, e1..en] (input or attribute), optional constant_value and axes (opset 18).
OutputVector pad(const NodeContext& ctx) {
    Output data = ctx.input(0);
    std::string mode = ctx.attr_string("mode", "constant");
    if (mode == "wrap") ctx.fail("pad mode 'wrap' is not supported");
    Output pads = ctx.has_input(1) ? ctx.input(1) : i64_const(ctx, ctx.attr_ints("pads"));
    std::optional<Output> value;
    if (ctx.has_input(2)) {
        value = ctx.input(2);
    } else if (ctx.has_attr("value")) {
        Tensor v(data.element_type(), {});
        const float f = ctx.attr_float("value");
        dispatch_numeric(v.element_type(), [&](auto tag) {
            using T = KILN_TYPE_OF(tag);
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
                ctx.check(f > static_cast<double>(std::numeric_limits<T>::lowest()) - 1.0 &&
                              f < static_cast<double>(std::numeric_limits<T>::max()) + 1.0,
                          "value ", f, " does not fit the data type");
            *v.data<T>() = static_cast<T>(f);
        });
        value = ctx.constant(v);
    }
    const PartialShape& s = data.partial_shape();
    ctx.check(s.rank_is_static(), "needs an input of known rank");
    const int64_t r = s.rank();
    Output begins, ends;
    const Tensor* pc = ctx.has_input(1) ? ctx.input_constant(1) : nullptr;
    if (!ctx.has_input(1) || pc) {
        Ints p = pc ? pc->to_int_vector() : ctx.attr_ints("pads");
        ctx.check(p.size() % 2 == 0, "pads must have an even length");
        const size_t n = p.size() / 2;
        Ints axes;
        if (ctx.has_input(3)) {
            const Tensor* ac = ctx.input_constant(3);
            ctx.check(ac != nullptr, "axes must be constant");
            axes = ac->to_int_vector();
        } else {
            for (size_t i = 0; i < n; ++i) axes.push_back(static_cast<int64_t>(i));
        }
        ctx.check(axes.size() == n, "pads must have two entries per axis");
        Ints b(r, 0), e(r, 0);
        for (size_t i = 0; i < n; ++i) {
            int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
            ctx.check(a >= 0 && a < r, "axis ", axes[i], " is out of range");
            b[a] = p[i];
            e[a] = p[i + n];
        }
        begins = i64_const(ctx, b);
        ends = i64_const(ctx, e);
    } else {
        ctx.check(!ctx.has_input(3), "axes need constant pads");
        begins = ctx.op("Slice", {pads, i64_const(ctx, {0}), i64_const(ctx, {r}),
                                  i64_const(ctx, {1}), i64_const(ctx, {0})});
        ends = ctx.op("Slice", {pads, i64_const(ctx, {r}), i64_const(ctx, {2 * r}),
                                i64_const(ctx, {1}), i64_const(ctx, {0})});
    }
    OutputVector in = {data, begins, ends};
    if (value && mode == "constant") {
        Output v = *value;
        if (v.partial_shape().rank_is_static() && v.partial_shape().rank() != 0)
            v = ctx.op("Reshape", {v, i64_const(ctx, {})}, {{"special_zero", false}});
        in.push_back(v);
    }
    return {ctx.op("Pad", in, {{"pad_mode", mode}})};
}

OutputVector reverse_sequence(const NodeContext& ctx) {
    return {ctx.op("ReverseSequence", {ctx.input(0), ctx.input(1)},
                   {{"batch_axis", ctx.attr_int("batch_axis", 1)},
                    {"seq_axis", ctx.attr_int("time_axis", 0)}})};
}

OutputVector depth_to_space(const NodeContext& ctx) {
    const std::string mode = ctx.attr_string("mode", "DCR") == "CRD" ? "depth_first" : "blocks_first";
    return {ctx.op("DepthToSpace", {ctx.input(0)},
                   {{"block_size", ctx.attr_int("blocksize")}, {"mode", mode}})};
}

OutputVector space_to_depth(const NodeContext& ctx) {
    return {ctx.op("SpaceToDepth", {ctx.input(0)},
                   {{"block_size", ctx.attr_int("blocksize")},
                    {"mode", std::string("blocks_first")}})};
}


std::string scatter_reduction(const NodeContext& ctx) {
    const std::string r = ctx.attr_string("reduction", "none");
    if (r == "none") return "none";
    if (r == "add") return "sum";
    if (r == "mul") return "prod";
    if (r == "min" || r == "max") return r;
    ctx.fail("unsupported reduction '", r, "'");
}

OutputVector scatter_elements(const NodeContext& ctx) {
    return {ctx.op("ScatterElementsUpdate",
                   {ctx.input(0), ctx.input(1), ctx.input(2),
                    ctx.scalar<int64_t>(ctx.attr_int("axis", 0))},
                   {{"reduction", scatter_reduction(ctx)}, {"use_init_val", true}})};
}

OutputVector scatter_nd(const NodeContext& ctx) {
    return {ctx.op("ScatterNDUpdate", {ctx.input(0), ctx.input(1), ctx.input(2)},
                   {{"reduction", scatter_reduction(ctx)}})};
}


OutputVector range(const NodeContext& ctx) {
    const ElementType t = ctx.input(0).element_type();
    return {ctx.op("Range", {ctx.input(0), ctx.input(1), ctx.input(2)},
                   {{"output_type", std::string(to_string(t))}})};
}

Output to_scalar(const NodeContext& ctx, const Output& v) {
    const PartialShape& s = v.partial_shape();
    if (s.rank_is_static() && s.rank() == 0) return v;
    return ctx.op("Reshape", {v, i64_const(ctx, {})}, {{"special_zero", false}});
}

OutputVector one_hot(const NodeContext& ctx) {
    Output values = ctx.input(2);
    Output off = ctx.op("Gather", {values, ctx.scalar<int64_t>(0), ctx.scalar<int64_t>(0)},
                        {{"batch_dims", int64_t{0}}});
    Output on = ctx.op("Gather", {values, ctx.scalar<int64_t>(1), ctx.scalar<int64_t>(0)},
                       {{"batch_dims", int64_t{0}}});
    return {ctx.op("OneHot", {ctx.input(0), to_scalar(ctx, ctx.input(1)), on, off},
                   {{"axis", ctx.attr_int("axis", -1)},
                    {"negative_indices_mode", std::string("normalize")}})};
}

OutputVector non_zero(const NodeContext& ctx) {
    return {ctx.op("NonZero", {ctx.input(0)}, {{"output_type", std::string("i64")}})};
}

OutputVector unique(const NodeContext& ctx) {
    OutputVector in = {ctx.input(0)};
    if (ctx.has_attr("axis")) in.push_back(ctx.scalar<int64_t>(ctx.attr_int("axis")));
    return ctx.make("Unique", in,
                    {{"sorted", ctx.attr_int("sorted", 1) != 0},
                     {"index_element_type", std::string("i64")},
                     {"count_element_type", std::string("i64")}});
}

OutputVector eye_like(const NodeContext& ctx) {
    Output data = ctx.input(0);
    const ElementType t = ctx.has_attr("dtype")
                              ? element_type_from_onnx(static_cast<int32_t>(ctx.attr_int("dtype")))
                              : data.element_type();
    const PartialShape& s = data.partial_shape();
    ctx.check(!s.rank_is_static() || s.rank() == 2, "input must be 2-D");
    Output rows, cols;
    if (s.is_static()) {
        rows = ctx.scalar<int64_t>(s[0].get_length());
        cols = ctx.scalar<int64_t>(s[1].get_length());
    } else {
        Output sh = ctx.op("ShapeOf", {data}, {{"output_type", std::string("i64")}});
        rows = ctx.op("Gather", {sh, ctx.scalar<int64_t>(0), ctx.scalar<int64_t>(0)});
        cols = ctx.op("Gather", {sh, ctx.scalar<int64_t>(1), ctx.scalar<int64_t>(0)});
    }
    return {ctx.op("Eye", {rows, cols, ctx.scalar<int64_t>(ctx.attr_int("k", 0))},
                   {{"output_type", std::string(to_string(t))}})};
}

OutputVector trilu(const NodeContext& ctx) {
    OutputVector in = {ctx.input(0)};
    if (ctx.has_input(1)) in.push_back(to_scalar(ctx, ctx.input(1)));
    return {ctx.op("Trilu", in, {{"upper", ctx.attr_int("upper", 1) != 0}})};
}

// Compress(data, condition[, axis]) = Gather(data, NonZero(condition)); no axis flattens.
OutputVector compress(const NodeContext& ctx) {
    Output data = ctx.input(0);
    Output nz = ctx.op("NonZero", {ctx.input(1)}, {{"output_type", std::string("i64")}});
    Output idx = ctx.op("Reshape", {nz, i64_const(ctx, {-1})}, {{"special_zero", false}});
    int64_t axis = 0;
    if (ctx.has_attr("axis")) {
        axis = ctx.attr_int("axis");
    } else {
        data = ctx.op("Reshape", {data, i64_const(ctx, {-1})}, {{"special_zero", false}});
    }
    return {ctx.op("Gather", {data, idx, ctx.scalar<int64_t>(axis)}, {{"batch_dims", int64_t{0}}})};
}

}  // namespace

void register_movement_translators(TranslatorRegistry& r) {
    r.add("Reshape", reshape);
    r.add("Transpose", transpose);
    r.add("Shape", shape);
    r.add("Size", size);
    r.add("Concat", concat);
    r.add("Gather", gather);
    r.add("GatherElements", gather_elements);
    r.add("GatherND", gather_nd);
    r.add("Squeeze", squeeze);
    r.add("Unsqueeze", unsqueeze);
    r.add("Slice", slice);
    r.add("Constant", constant);
    r.add("Flatten", flatten);
    r.add("Split", split);
    r.add("Expand", expand);
    r.add("Tile", tile);
    r.add("ConstantOfShape", constant_of_shape);
    r.add("Pad", pad);
    r.add("Range", range);
    r.add("OneHot", one_hot);
    r.add("NonZero", non_zero);
    r.add("Unique", unique);
    r.add("EyeLike", eye_like);
    r.add("Trilu", trilu);
    r.add("Compress", compress);
    r.add("Scatter", scatter_elements);
    r.add("ScatterElements", scatter_elements);
    r.add("ScatterND", scatter_nd);
    r.add("ReverseSequence", reverse_sequence);
    r.add("DepthToSpace", depth_to_space);
    r.add("SpaceToDepth", space_to_depth);
}

}  // namespace kiln::onnx_fe
