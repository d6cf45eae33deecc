// Optimizer update rules of the ai.onnx.preview.training domain (Adagrad, Adam, Momentum),
// decomposed into elementwise core ops. Each takes R (learning rate) and T (step count) and then
// groups of per-tensor inputs: X..., G..., and one or two state groups.
#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {

namespace {

const char* kTraining = "ai.onnx.preview.training";

// Arithmetic helpers on graph values; scalars are made in the value's element type.
struct Ops {
    const NodeContext& ctx;
    ElementType type;
    Output k(double v) const {
        return ctx.op("Convert", {ctx.scalar(v)}, {{"destination_type", std::string(to_string(type))}});
    }
    Output add(Output a, Output b) const { return ctx.op("Add", {a, b}); }
    Output sub(Output a, Output b) const { return ctx.op("Subtract", {a, b}); }
    Output mul(Output a, Output b) const { return ctx.op("Multiply", {a, b}); }
    Output div(Output a, Output b) const { return ctx.op("Divide", {a, b}); }
    Output sqrt(Output a) const { return ctx.op("Sqrt", {a}); }
    Output to_type(Output a) const {
        return ctx.op("Convert", {a}, {{"destination_type", std::string(to_string(type))}});
    }
    // t > 0 ? when_positive : otherwise
    Output if_positive(Output t, Output when_positive, Output otherwise) const {
        auto zero = ctx.op("Convert", {ctx.scalar<int64_t>(0)},
                           {{"destination_type", std::string(to_string(t.element_type()))}});
        return ctx.op("Select", {ctx.op("Greater", {t, zero}), when_positive, otherwise});
    }
};

size_t group_count(const NodeContext& ctx, size_t groups) {
    const size_t n = ctx.input_count() - 2;
    ctx.check(n > 0 && n % groups == 0, "expects R, T and ", groups,
              " groups of equal size, got ", ctx.input_count(), " inputs");
    return n / groups;
}

OutputVector adagrad(const NodeContext& ctx) {
    const size_t n = group_count(ctx, 3);
    Ops o{ctx, ctx.input(2).element_type()};
    const double norm = ctx.attr_float("norm_coefficient", 0.f);
    const double eps = ctx.attr_float("epsilon", 0.f);
    const double decay = ctx.attr_float("decay_factor", 0.f);
    auto r = o.to_type(ctx.input(0));
    auto t = o.to_type(ctx.input(1));
    auto r_adj = o.div(r, o.add(o.k(1.0), o.mul(t, o.k(decay))));
    OutputVector xs, hs;
    for (size_t i = 0; i < n; ++i) {
        auto x = ctx.input(2 + i), g = ctx.input(2 + n + i), h = ctx.input(2 + 2 * n + i);
        auto g_reg = o.add(o.mul(o.k(norm), x), g);
        auto h_new = o.add(h, o.mul(g_reg, g_reg));
        auto h_sqrt = o.add(o.sqrt(h_new), o.k(eps));
        xs.push_back(o.sub(x, o.div(o.mul(r_adj, g_reg), h_sqrt)));
        hs.push_back(h_new);
    }
    xs.insert(xs.end(), hs.begin(), hs.end());
    return xs;
}

OutputVector adam(const NodeContext& ctx) {
    const size_t n = group_count(ctx, 4);
    Ops o{ctx, ctx.input(2).element_type()};
    const double norm = ctx.attr_float("norm_coefficient", 0.f);
    const double norm_post = ctx.attr_float("norm_coefficient_post", 0.f);
    const double alpha = ctx.attr_float("alpha", 0.9f);
    const double beta = ctx.attr_float("beta", 0.999f);
    const double eps = ctx.attr_float("epsilon", 1e-6f);
    auto r = o.to_type(ctx.input(0));
    auto t_raw = ctx.input(1);
    auto t = o.to_type(t_raw);
    // r * sqrt(1 - beta^t) / (1 - alpha^t) once training has started, r at step 0.
    auto corrected = o.div(o.mul(r, o.sqrt(o.sub(o.k(1.0), ctx.op("Power", {o.k(beta), t})))),
                           o.sub(o.k(1.0), ctx.op("Power", {o.k(alpha), t})));
    auto r_adj = o.if_positive(t_raw, corrected, r);
    OutputVector xs, vs, hs;
    for (size_t i = 0; i < n; ++i) {
        auto x = ctx.input(2 + i), g = ctx.input(2 + n + i);
        auto v = ctx.input(2 + 2 * n + i), h = ctx.input(2 + 3 * n + i);
        auto g_reg = o.add(o.mul(o.k(norm), x), g);
        auto v_new = o.add(o.mul(o.k(alpha), v), o.mul(o.k(1.0 - alpha), g_reg));
        auto h_new = o.add(o.mul(o.k(beta), h), o.mul(o.k(1.0 - beta), o.mul(g_reg, g_reg)));
        auto h_sqrt = o.add(o.sqrt(h_new), o.k(eps));
        auto x_new = o.sub(x, o.mul(r_adj, o.div(v_new, h_sqrt)));
        xs.push_back(o.mul(o.k(1.0 - norm_post), x_new));
        vs.push_back(v_new);
        hs.push_back(h_new);
    }
    xs.insert(xs.end(), vs.begin(), vs.end());
    xs.insert(xs.end(), hs.begin(), hs.end());
    return xs;
}

OutputVector momentum(const NodeContext& ctx) {
    const size_t n = group_count(ctx, 3);
    Ops o{ctx, ctx.input(2).element_type()};
    const double norm = ctx.attr_float("norm_coefficient");
    const double alpha = ctx.attr_float("alpha");
    const double beta = ctx.attr_float("beta");
    const std::string mode = ctx.attr_string("mode");
    ctx.check(mode == "standard" || mode == "nesterov", "unknown mode '", mode, "'");
    auto r = o.to_type(ctx.input(0));
    auto beta_adj = o.if_positive(ctx.input(1), o.k(beta), o.k(1.0));
    OutputVector xs, vs;
    for (size_t i = 0; i < n; ++i) {
        auto x = ctx.input(2 + i), g = ctx.input(2 + n + i), v = ctx.input(2 + 2 * n + i);
        auto g_reg = o.add(o.mul(o.k(norm), x), g);
        auto v_new = o.add(o.mul(o.k(alpha), v), o.mul(beta_adj, g_reg));
        auto step = mode == "standard" ? v_new : o.add(g_reg, o.mul(o.k(alpha), v_new));
        xs.push_back(o.sub(x, o.mul(r, step)));
        vs.push_back(v_new);
    }
    xs.insert(xs.end(), vs.begin(), vs.end());
    return xs;
}

}  // namespace

void register_training_translators(TranslatorRegistry& r) {
    r.add("Adagrad", adagrad, kTraining);
    r.add("Adam", adam, kTraining);
    r.add("Momentum", momentum, kTraining);
}

}  // namespace kiln::onnx_fe
