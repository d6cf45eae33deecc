// ONNX reductions and axis-wise ops: Reduce*, ArgMax/ArgMin, Softmax family, TopK, CumSum,
// Einsum, Det, LpNormalization.
#include <numeric>

#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {
namespace {

// The axes of a reduction as a core value, or nullopt-like empty Output when ONNX asks for a
// no-op. Before opset 18 (13 for ReduceSum) axes are an attribute; function bodies may use the
// input form, so both are accepted.
struct Axes {
    bool noop = false;
    Output value;
};

Axes reduction_axes(const NodeContext& ctx) {
    Axes a;
    const bool noop_empty = ctx.attr_int("noop_with_empty_axes", 0) != 0;
    if (ctx.has_input(1)) {
        // An axes input statically known to be empty means "all axes" (or no-op) in ONNX, but
        // "no-op" in the core op, so it is resolved here.
        const Tensor* c = ctx.input_constant(1);
        const PartialShape& as = ctx.input(1).partial_shape();
        const bool known_empty =
            (c && c->size() == 0) || (as.is_static() && shape_size(as.to_shape()) == 0);
        if (!known_empty) {
            a.value = ctx.input(1);
            return a;
        }
    } else if (ctx.has_attr("axes")) {
        auto v = ctx.attr_ints("axes");
        if (!v.empty()) {
            a.value = ctx.constant(v, {static_cast<int64_t>(v.size())});
            return a;
        }
    }
    if (noop_empty) {
        a.noop = true;
        return a;
    }
    const PartialShape& s = ctx.input(0).partial_shape();
    ctx.check(s.rank_is_static(), "reducing over all axes needs a static input rank");
    std::vector<int64_t> all(static_cast<size_t>(s.rank()));
    std::iota(all.begin(), all.end(), 0);
    a.value = ctx.constant(all, {s.rank()});
    return a;
}

Attributes keep_attr(const NodeContext& ctx) {
    return {{"keep_dims", bool{ctx.attr_int("keepdims", 1) != 0}}};
}

template <const char* Core>
OutputVector reduce(const NodeContext& ctx) {
    Axes a = reduction_axes(ctx);
    if (a.noop) return {ctx.input(0)};
    return {ctx.op(Core, {ctx.input(0), a.value}, keep_attr(ctx))};
}

constexpr char kSum[] = "ReduceSum";
constexpr char kMean[] = "ReduceMean";
constexpr char kMax[] = "ReduceMax";
constexpr char kMin[] = "ReduceMin";
constexpr char kProd[] = "ReduceProd";
constexpr char kL1[] = "ReduceL1";
constexpr char kL2[] = "ReduceL2";

OutputVector reduce_sum_square(const NodeContext& ctx) {
    Axes a = reduction_axes(ctx);
    Output sq = ctx.op("Multiply", {ctx.input(0), ctx.input(0)});
    if (a.noop) return {sq};
    return {ctx.op("ReduceSum", {sq, a.value}, keep_attr(ctx))};
}

OutputVector reduce_log_sum(const NodeContext& ctx) {
    Axes a = reduction_axes(ctx);
    if (a.noop) return {ctx.op("Log", {ctx.input(0)})};
    return {ctx.op("Log", {ctx.op("ReduceSum", {ctx.input(0), a.value}, keep_attr(ctx))})};
}

// log(sum(exp(x))) computed as max + log(sum(exp(x - max))) to stay finite for large inputs.
OutputVector reduce_log_sum_exp(const NodeContext& ctx) {
    Axes a = reduction_axes(ctx);
    Output x = ctx.input(0);
    if (a.noop) return {ctx.op("Log", {ctx.op("Exp", {x})})};
    Output m_keep = ctx.op("ReduceMax", {x, a.value}, {{"keep_dims", true}});
    Output m_out = ctx.op("ReduceMax", {x, a.value}, keep_attr(ctx));
    Output e = ctx.op("Exp", {ctx.op("Subtract", {x, m_keep})});
    Output s = ctx.op("ReduceSum", {e, a.value}, keep_attr(ctx));
    return {ctx.op("Add", {ctx.op("Log", {s}), m_out})};
}

template <const char* Core>
OutputVector arg_reduce(const NodeContext& ctx) {
    return {ctx.op(Core, {ctx.input(0)},
                   {{"axis", int64_t{ctx.attr_int("axis", 0)}},
                    {"keep_dims", bool{ctx.attr_int("keepdims", 1) != 0}},
                    {"select_last_index", bool{ctx.attr_int("select_last_index", 0) != 0}}})};
}
constexpr char kArgMax[] = "ArgMax";
constexpr char kArgMin[] = "ArgMin";

// Before opset 13 these ops flatten to 2-D at `axis` (default 1); the model normally arrives
// upgraded to 13, where only the one axis (default -1) is normalized.
template <const char* Core>
OutputVector softmax_like(const NodeContext& ctx) {
    Output x = ctx.input(0);
    if (ctx.opset() >= 13) return {ctx.op(Core, {x}, {{"axis", int64_t{ctx.attr_int("axis", -1)}}})};
    const PartialShape& s = x.partial_shape();
    int64_t axis = ctx.attr_int("axis", 1);
    ctx.check(s.rank_is_static(), "needs a static rank before opset 13");
    if (axis < 0) axis += s.rank();
    if (axis == s.rank() - 1) return {ctx.op(Core, {x}, {{"axis", int64_t{axis}}})};
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) {
        ctx.check(s[d].is_static(), "needs static leading dimensions before opset 13");
        outer *= s[d].get_length();
    }
    Output flat = ctx.op("Reshape", {x, ctx.constant(std::vector<int64_t>{outer, -1}, {2})},
                         {{"special_zero", false}});
    Output y = ctx.op(Core, {flat}, {{"axis", int64_t{1}}});
    return {ctx.op("Reshape", {y, ctx.op("ShapeOf", {x})}, {{"special_zero", false}})};
}
constexpr char kSoftmax[] = "Softmax";
constexpr char kLogSoftmax[] = "LogSoftmax";
constexpr char kHardmax[] = "Hardmax";

OutputVector top_k(const NodeContext& ctx) {
    Output k;
    if (ctx.opset() >= 10) {
        const Tensor* kc = ctx.input_constant(1);
        k = kc ? ctx.scalar(kc->value_as_int(0)) : ctx.input(1);
    } else {
        k = ctx.scalar(ctx.attr_int("k"));
    }
    const bool largest = ctx.attr_int("largest", 1) != 0;
    const bool sorted = ctx.attr_int("sorted", 1) != 0;
    auto outs = ctx.make("TopK", {ctx.input(0), k},
                         {{"axis", int64_t{ctx.attr_int("axis", -1)}},
                          {"mode", std::string(largest ? "max" : "min")},
                          {"sort", std::string(sorted ? "value" : "index")},
                          {"index_element_type", std::string("i64")},
                          {"stable", true}});
    return outs;
}

OutputVector cum_sum(const NodeContext& ctx) {
    return {ctx.op("CumSum", {ctx.input(0), ctx.input(1)},
                   {{"exclusive", bool{ctx.attr_int("exclusive", 0) != 0}},
                    {"reverse", bool{ctx.attr_int("reverse", 0) != 0}}})};
}

OutputVector einsum(const NodeContext& ctx) {
    return {ctx.op("Einsum", ctx.inputs(), {{"equation", ctx.attr_string("equation")}})};
}

OutputVector det(const NodeContext& ctx) { return {ctx.op("Det", {ctx.input(0)})}; }

OutputVector lp_normalization(const NodeContext& ctx) {
    const int64_t p = ctx.attr_int("p", 2);
    ctx.check(p == 1 || p == 2, "p must be 1 or 2, got ", p);
    Output x = ctx.input(0);
    Output axis = ctx.constant(std::vector<int64_t>{ctx.attr_int("axis", -1)}, {1});
    Output norm = ctx.op(p == 1 ? "ReduceL1" : "ReduceL2", {x, axis}, {{"keep_dims", true}});
    return {ctx.op("Divide", {x, norm})};
}

}  // namespace

void register_reduction_translators(TranslatorRegistry& r) {
    r.add("ReduceSum", reduce<kSum>);
    r.add("ReduceMean", reduce<kMean>);
    r.add("ReduceMax", reduce<kMax>);
    r.add("ReduceMin", reduce<kMin>);
    r.add("ReduceProd", reduce<kProd>);
    r.add("ReduceL1", reduce<kL1>);
    r.add("ReduceL2", reduce<kL2>);
    r.add("ReduceSumSquare", reduce_sum_square);
    r.add("ReduceLogSum", reduce_log_sum);
    r.add("ReduceLogSumExp", reduce_log_sum_exp);
    r.add("ArgMax", arg_reduce<kArgMax>);
    r.add("ArgMin", arg_reduce<kArgMin>);
    r.add("Softmax", softmax_like<kSoftmax>);
    r.add("LogSoftmax", softmax_like<kLogSoftmax>);
    r.add("Hardmax", softmax_like<kHardmax>);
    r.add("TopK", top_k);
    r.add("CumSum", cum_sum);
    r.add("Einsum", einsum);
    r.add("Det", det);
    r.add("LpNormalization", lp_normalization);
}

}  // namespace kiln::onnx_fe
