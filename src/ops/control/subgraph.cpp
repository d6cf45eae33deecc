// Control flow with sub-graph bodies: If (opset8), Loop (opset5) and Scan (Kiln op, ONNX Scan-16
// semantics). Bodies live in node->bodies(); every port mapping is an ordinary int-list attribute
// so the ops round-trip through IR files.
//
// If: inputs cond, x1..xn; bodies [then, else].
//   then_inputs[k] / else_inputs[k]: the If input index (>= 1) feeding body parameter k.
//   then_outputs[j] / else_outputs[j]: the body result index giving If output j.
// Loop: inputs trip_count (integer scalar, negative = unbounded), execution_condition (boolean
//   scalar), x2..xn; bodies [body].
//   body_inputs[k]: the Loop input index giving the initial value of body parameter k, or -1 for
//     the current-iteration parameter (receives 0, 1, 2, ... in the parameter's integer type).
//   body_back_edges[k]: the body result index whose value feeds parameter k on the next
//     iteration, or -1 (the parameter keeps its input value: invariant).
//   body_condition_output_idx: the body result giving the next iteration's condition (-1: none).
//   output_body_results[j]: the body result index behind Loop output j.
//   output_concat[j]: 0 = value of the last iteration (the initial value of the back-edged
//     parameter when no iteration ran), 1 = values of all iterations concatenated along
//     output_axes[j] (OpenVINO ConcatOutputDescription with stride 1).
// Scan: inputs N initial states, M scan inputs, C invariant inputs; bodies [body] whose
//   parameters are the N states, one slice (axis removed) of each scan input, the C invariants,
//   and whose results are the N next states then K per-iteration values. Outputs: N final
//   states, K stacked values. Attributes num_scan_inputs (M), num_invariant_inputs (C),
//   scan_input_axes, scan_input_directions, scan_output_axes, scan_output_directions (ONNX).
//   batched = 1 selects the Scan-8 form: states, scan inputs and outputs carry a leading batch
//   axis, and every batch item is scanned on its own (the axes above exclude the batch axis).
#include <algorithm>

#include "core/op_def.hpp"
#include "ops/control/tensor_slices.hpp"
#include "ops/reference_executor.hpp"

namespace kiln {
namespace {

using control::join;
using control::take_slice;

// The most specific shape both branches agree on.
PartialShape merge_shapes(const PartialShape& a, const PartialShape& b) {
    if (!a.rank_is_static() || !b.rank_is_static() || a.rank() != b.rank()) return {};
    std::vector<Dimension> dims;
    for (size_t i = 0; i < a.size(); ++i) dims.push_back(a[i] == b[i] ? a[i] : Dimension());
    return PartialShape(dims);
}

const Output& body_result(const ShapeContext& ctx, const Model& body, int64_t idx) {
    ctx.check(idx >= 0 && idx < static_cast<int64_t>(body.results().size()), "body result index ",
              idx, " is outside [0, ", body.results().size(), ")");
    return body.results()[static_cast<size_t>(idx)]->input(0);
}

void check_condition(const ShapeContext& ctx, size_t i, const char* what) {
    const ElementType t = ctx.input_type(i);
    ctx.check(t == ElementType::boolean || t == ElementType::dynamic, what,
              " must be boolean, got ", to_string(t));
    // The value count is checked at run time: OpenVINO IR files may declare odd static shapes.
    const auto& s = ctx.input_shape(i);
    ctx.check(!s.rank_is_static() || s.rank() <= 1, what, " must be a scalar or 1-D, got shape ",
              to_string(s));
}

void check_input_map(const ShapeContext& ctx, const Model& body, const std::vector<int64_t>& map,
                     const char* name, int64_t lowest) {
    ctx.check(map.size() == body.parameters().size(), name, " has ", map.size(), " entries for ",
              body.parameters().size(), " body parameters");
    for (int64_t i : map)
        ctx.check(i >= lowest && i < static_cast<int64_t>(ctx.input_count()), name,
                  " refers to input ", i, " outside [", lowest, ", ", ctx.input_count(), ")");
}

bool condition_value(const Tensor& t, const Node& n, const char* what) {
    KILN_CHECK(t.element_type() == ElementType::boolean && t.size() == 1, n.context(), " ", what,
               " must be one boolean, got ", describe(t));
    return t.data<bool>()[0];
}

void infer_if(ShapeContext& ctx) {
    const auto& bodies = ctx.node().bodies();
    ctx.check(bodies.size() == 2 && bodies[0] && bodies[1], "needs then and else bodies");
    ctx.check(ctx.input_count() >= 1, "needs a condition input");
    check_condition(ctx, 0, "condition");
    const auto& a = ctx.attrs();
    check_input_map(ctx, *bodies[0], a.get_ints("then_inputs", {}), "then_inputs", 1);
    check_input_map(ctx, *bodies[1], a.get_ints("else_inputs", {}), "else_inputs", 1);
    const auto then_out = a.get_ints("then_outputs", {});
    const auto else_out = a.get_ints("else_outputs", {});
    ctx.check(then_out.size() == else_out.size(), "then_outputs and else_outputs differ in size");
    const Tensor* cond = ctx.input_value(0);
    const bool known = cond && cond->element_type() == ElementType::boolean && cond->size() == 1;
    for (size_t j = 0; j < then_out.size(); ++j) {
        const Output& t = body_result(ctx, *bodies[0], then_out[j]);
        const Output& e = body_result(ctx, *bodies[1], else_out[j]);
        if (known) {
            const Output& chosen = cond->data<bool>()[0] ? t : e;
            ctx.set_output(j, chosen.element_type(), chosen.partial_shape());
            continue;
        }
        ElementType type = t.element_type();
        if (type == ElementType::dynamic) type = e.element_type();
        ctx.check(e.element_type() == ElementType::dynamic || e.element_type() == type, "output ",
                  j, " is ", to_string(t.element_type()), " in then and ",
                  to_string(e.element_type()), " in else");
        ctx.set_output(j, type, merge_shapes(t.partial_shape(), e.partial_shape()));
    }
}

void eval_if(const Node& n, const TensorVector& in, TensorVector& out, ExecContext& ctx) {
    const bool cond = condition_value(in.at(0), n, "condition");
    const Model& body = *n.bodies()[cond ? 0 : 1];
    const auto in_map = n.attrs().get_ints(cond ? "then_inputs" : "else_inputs", {});
    const auto out_map = n.attrs().get_ints(cond ? "then_outputs" : "else_outputs", {});
    TensorVector args;
    for (int64_t i : in_map) args.push_back(in.at(static_cast<size_t>(i)));
    TensorVector res = evaluate_model(body, args, &ctx);
    out.clear();
    for (int64_t r : out_map) out.push_back(res.at(static_cast<size_t>(r)));
}

struct LoopPorts {
    std::vector<int64_t> inputs, back_edges, out_results, out_concat, out_axes;
    int64_t cond_idx;
};

LoopPorts loop_ports(const Attributes& a) {
    LoopPorts p;
    p.inputs = a.get_ints("body_inputs", {});
    p.back_edges = a.get_ints("body_back_edges", {});
    p.out_results = a.get_ints("output_body_results", {});
    p.out_concat = a.get_ints("output_concat", {});
    p.out_axes = a.get_ints("output_axes", {});
    p.cond_idx = a.get_int("body_condition_output_idx", -1);
    if (p.out_concat.empty()) p.out_concat.assign(p.out_results.size(), 0);
    if (p.out_axes.empty()) p.out_axes.assign(p.out_results.size(), 0);
    return p;
}

void infer_loop(ShapeContext& ctx) {
    const auto& bodies = ctx.node().bodies();
    ctx.check(bodies.size() == 1 && bodies[0], "needs one body");
    const Model& body = *bodies[0];
    ctx.check(ctx.input_count() >= 2, "needs trip_count and execution_condition inputs");
    const ElementType tt = ctx.input_type(0);
    ctx.check(tt == ElementType::dynamic || (is_integral(tt) && tt != ElementType::boolean),
              "trip_count must be an integer, got ", to_string(tt));
    check_condition(ctx, 1, "execution_condition");
    const LoopPorts p = loop_ports(ctx.attrs());
    ctx.check(p.inputs.size() == body.parameters().size() && p.back_edges.size() == p.inputs.size(),
              "body_inputs and body_back_edges need one entry per body parameter (",
              body.parameters().size(), ")");
    for (size_t k = 0; k < p.inputs.size(); ++k) {
        ctx.check(p.inputs[k] == -1 ||
                      (p.inputs[k] >= 0 && p.inputs[k] < static_cast<int64_t>(ctx.input_count())),
                  "body_inputs[", k, "] = ", p.inputs[k], " is not an input index");
        if (p.back_edges[k] >= 0) body_result(ctx, body, p.back_edges[k]);
    }
    if (p.cond_idx >= 0) body_result(ctx, body, p.cond_idx);
    ctx.check(
        p.out_concat.size() == p.out_results.size() && p.out_axes.size() == p.out_results.size(),
        "output_concat and output_axes need one entry per output");
    for (size_t j = 0; j < p.out_results.size(); ++j) {
        const Output& r = body_result(ctx, body, p.out_results[j]);
        PartialShape s = r.partial_shape();
        if (p.out_concat[j]) {
            if (s.rank_is_static()) {
                const int64_t axis = p.out_axes[j] < 0 ? p.out_axes[j] + s.rank() : p.out_axes[j];
                ctx.check(axis >= 0 && axis < s.rank(), "output_axes[", j, "] is outside rank ",
                          s.rank());
                s[static_cast<size_t>(axis)] = Dimension();
            }
        } else {
            for (size_t k = 0; k < p.back_edges.size(); ++k)
                if (p.back_edges[k] == p.out_results[j] && p.inputs[k] >= 0)
                    s = merge_shapes(s, ctx.input_shape(static_cast<size_t>(p.inputs[k])));
        }
        ctx.set_output(j, r.element_type(), s);
    }
}

Tensor iteration_value(ElementType t, int64_t i) {
    switch (t) {
        case ElementType::i32:
            return Tensor::scalar(static_cast<int32_t>(i));
        case ElementType::f32:
            return Tensor::scalar(static_cast<float>(i));
        default:
            return Tensor::scalar(i);
    }
}

// Shape of a concatenated output when no iteration ran: the body result's shape with 0 on the
// concatenation axis (dynamic dimensions also read as 0).
Shape empty_concat_shape(const PartialShape& s, int64_t axis) {
    if (!s.rank_is_static()) return {0};
    Shape out;
    for (const auto& d : s.dims()) out.push_back(d.value_or(0));
    if (axis < 0) axis += static_cast<int64_t>(out.size());
    if (axis >= 0 && axis < static_cast<int64_t>(out.size())) out[static_cast<size_t>(axis)] = 0;
    return out;
}

void eval_loop(const Node& n, const TensorVector& in, TensorVector& out, ExecContext& ctx) {
    const Model& body = *n.bodies()[0];
    const LoopPorts p = loop_ports(n.attrs());
    KILN_CHECK(in.at(0).size() == 1, n.context(), " trip_count must hold one value, got ",
               describe(in[0]));
    const int64_t trip = in[0].value_as_int(0);
    bool cond = condition_value(in.at(1), n, "execution_condition");
    TensorVector params(p.inputs.size());
    for (size_t k = 0; k < p.inputs.size(); ++k)
        if (p.inputs[k] >= 0) params[k] = in.at(static_cast<size_t>(p.inputs[k]));
    ReferencePlan plan(std::shared_ptr<const Model>(&body, [](const Model*) {}));
    std::vector<TensorVector> parts(p.out_results.size());
    TensorVector last;
    int64_t i = 0;
    for (; (trip < 0 || i < trip) && cond; ++i) {
        for (size_t k = 0; k < p.inputs.size(); ++k)
            if (p.inputs[k] < 0)
                params[k] = iteration_value(body.parameters()[k]->output_type(0), i);
        last = plan.run(params, ctx);
        if (p.cond_idx >= 0)
            cond = condition_value(last.at(static_cast<size_t>(p.cond_idx)), n, "body condition");
        for (size_t j = 0; j < p.out_results.size(); ++j)
            if (p.out_concat[j]) parts[j].push_back(last.at(static_cast<size_t>(p.out_results[j])));
        for (size_t k = 0; k < p.back_edges.size(); ++k)
            if (p.back_edges[k] >= 0) params[k] = last.at(static_cast<size_t>(p.back_edges[k]));
    }
    out.assign(p.out_results.size(), Tensor());
    for (size_t j = 0; j < p.out_results.size(); ++j) {
        const int64_t r = p.out_results[j];
        if (p.out_concat[j]) {
            int64_t axis = p.out_axes[j];
            if (!parts[j].empty() && axis < 0) axis += parts[j][0].rank();
            out[j] = join(parts[j], axis, false, n.output_type(j),
                          empty_concat_shape(n.output_shape(j), p.out_axes[j]));
        } else if (i > 0) {
            out[j] = last.at(static_cast<size_t>(r));
        } else {
            for (size_t k = 0; k < p.back_edges.size() && !out[j]; ++k)
                if (p.back_edges[k] == r && p.inputs[k] >= 0)
                    out[j] = in.at(static_cast<size_t>(p.inputs[k]));
            KILN_CHECK(out[j], n.context(), " output ", j,
                       " has no value: the loop ran no iteration");
        }
    }
}

struct ScanPorts {
    int64_t states, scans, invariants, outputs;
    std::vector<int64_t> in_axes, in_dirs, out_axes, out_dirs;
};

ScanPorts scan_ports(const Node& n, size_t input_count) {
    const auto& a = n.attrs();
    ScanPorts p;
    p.scans = a.get_int("num_scan_inputs");
    p.invariants = a.get_int("num_invariant_inputs", 0);
    p.states = static_cast<int64_t>(input_count) - p.scans - p.invariants;
    KILN_CHECK(p.scans >= 1 && p.invariants >= 0 && p.states >= 0, n.context(),
               " num_scan_inputs/num_invariant_inputs do not match ", input_count, " inputs");
    KILN_CHECK(n.bodies().size() == 1 && n.bodies()[0], n.context(), " needs one body");
    const Model& body = *n.bodies()[0];
    KILN_CHECK(body.parameters().size() == input_count, n.context(), " body has ",
               body.parameters().size(), " parameters for ", input_count, " inputs");
    p.outputs = static_cast<int64_t>(body.results().size()) - p.states;
    KILN_CHECK(p.outputs >= 0, n.context(), " body has fewer results than states");
    auto list = [&](const char* name, int64_t count) {
        auto v = a.get_ints(name, std::vector<int64_t>(static_cast<size_t>(count), 0));
        KILN_CHECK(static_cast<int64_t>(v.size()) == count, n.context(), " ", name, " has ",
                   v.size(), " entries, expected ", count);
        return v;
    };
    p.in_axes = list("scan_input_axes", p.scans);
    p.in_dirs = list("scan_input_directions", p.scans);
    p.out_axes = list("scan_output_axes", p.outputs);
    p.out_dirs = list("scan_output_directions", p.outputs);
    return p;
}

PartialShape drop_leading(const PartialShape& s) {
    if (!s.rank_is_static() || s.rank() == 0) return s;
    return PartialShape(std::vector<Dimension>(s.dims().begin() + 1, s.dims().end()));
}

void infer_scan(ShapeContext& ctx) {
    const ScanPorts p = scan_ports(ctx.node(), ctx.input_count());
    const Model& body = *ctx.node().bodies()[0];
    const bool batched = ctx.attrs().get_int("batched", 0) != 0;
    // Per batch item shapes of the batched (Scan-8) form.
    auto in_shape = [&](int64_t i) {
        const auto& s = ctx.input_shape(static_cast<size_t>(i));
        return batched && i < p.states + p.scans ? drop_leading(s) : s;
    };
    Dimension len, batch;
    if (batched && p.states + p.scans > 0 && ctx.input_shape(0).rank_is_static() &&
        ctx.input_shape(0).rank() > 0)
        batch = ctx.input_shape(0)[0];
    for (int64_t m = 0; m < p.scans; ++m) {
        const PartialShape s = in_shape(p.states + m);
        if (!s.rank_is_static()) continue;
        int64_t axis = p.in_axes[static_cast<size_t>(m)];
        if (axis < 0) axis += s.rank();
        ctx.check(axis >= 0 && axis < s.rank(), "scan_input_axes[", m, "] is outside rank ",
                  s.rank());
        if (s[static_cast<size_t>(axis)].is_static()) len = s[static_cast<size_t>(axis)];
    }
    for (int64_t j = 0; j < p.states + p.outputs; ++j) {
        const Output& r = body_result(ctx, body, j);
        PartialShape s = r.partial_shape();
        if (j < p.states) {
            s = merge_shapes(s, in_shape(j));
        } else if (s.rank_is_static()) {
            auto dims = s.dims();
            int64_t axis = p.out_axes[static_cast<size_t>(j - p.states)];
            if (axis < 0) axis += static_cast<int64_t>(dims.size()) + 1;
            ctx.check(axis >= 0 && axis <= static_cast<int64_t>(dims.size()),
                      "scan_output_axes entry is outside rank ", dims.size() + 1);
            dims.insert(dims.begin() + axis, len);
            s = PartialShape(dims);
        }
        if (batched && s.rank_is_static()) {
            auto dims = s.dims();
            dims.insert(dims.begin(), batch);
            s = PartialShape(dims);
        }
        ctx.set_output(static_cast<size_t>(j), r.element_type(), s);
    }
}

// One unbatched scan; `out_shapes` are the declared output shapes (for empty outputs).
TensorVector run_scan(const Node& n, const ScanPorts& p, const ReferencePlan& plan,
                      const TensorVector& in, const std::vector<PartialShape>& out_shapes,
                      ExecContext& ctx) {
    int64_t len = -1;
    std::vector<int64_t> axes;
    for (int64_t m = 0; m < p.scans; ++m) {
        const Tensor& t = in[static_cast<size_t>(p.states + m)];
        int64_t axis = p.in_axes[static_cast<size_t>(m)];
        if (axis < 0) axis += t.rank();
        KILN_CHECK(axis >= 0 && axis < t.rank(), n.context(), " scan axis ", axis, " is outside ",
                   describe(t));
        const int64_t l = t.shape()[static_cast<size_t>(axis)];
        KILN_CHECK(len < 0 || l == len, n.context(), " scan inputs differ in length: ", len, " vs ",
                   l);
        len = l;
        axes.push_back(axis);
    }
    TensorVector args(in.begin(), in.end());
    std::vector<TensorVector> parts(static_cast<size_t>(p.outputs));
    for (int64_t t = 0; t < len; ++t) {
        for (int64_t m = 0; m < p.scans; ++m) {
            const size_t i = static_cast<size_t>(p.states + m);
            const int64_t idx = p.in_dirs[static_cast<size_t>(m)] ? len - 1 - t : t;
            args[i] = take_slice(in[i], axes[static_cast<size_t>(m)], idx);
        }
        TensorVector res = plan.run(args, ctx);
        for (int64_t s = 0; s < p.states; ++s)
            args[static_cast<size_t>(s)] = res[static_cast<size_t>(s)];
        for (int64_t k = 0; k < p.outputs; ++k)
            parts[static_cast<size_t>(k)].push_back(res[static_cast<size_t>(p.states + k)]);
    }
    TensorVector out(static_cast<size_t>(p.states + p.outputs));
    for (int64_t s = 0; s < p.states; ++s)
        out[static_cast<size_t>(s)] = args[static_cast<size_t>(s)];
    for (int64_t k = 0; k < p.outputs; ++k) {
        auto& v = parts[static_cast<size_t>(k)];
        if (p.out_dirs[static_cast<size_t>(k)]) std::reverse(v.begin(), v.end());
        int64_t axis = p.out_axes[static_cast<size_t>(k)];
        if (!v.empty() && axis < 0) axis += v[0].rank() + 1;
        const size_t j = static_cast<size_t>(p.states + k);
        out[j] = join(v, axis, true, n.output_type(j),
                      empty_concat_shape(out_shapes[j], p.out_axes[static_cast<size_t>(k)]));
    }
    return out;
}

void eval_scan(const Node& n, const TensorVector& in, TensorVector& out, ExecContext& ctx) {
    const ScanPorts p = scan_ports(n, in.size());
    const Model& body = *n.bodies()[0];
    ReferencePlan plan(std::shared_ptr<const Model>(&body, [](const Model*) {}));
    std::vector<PartialShape> shapes;
    for (size_t j = 0; j < n.output_count(); ++j) shapes.push_back(n.output_shape(j));
    if (n.attrs().get_int("batched", 0) == 0) {
        out = run_scan(n, p, plan, in, shapes, ctx);
        return;
    }
    // Scan-8 form: states and scan inputs carry a leading batch axis; invariants do not.
    const int64_t batched_inputs = p.states + p.scans;
    KILN_CHECK(batched_inputs > 0 && in[0].rank() > 0, n.context(), " has no batch axis");
    const int64_t batch = in[0].shape()[0];
    for (int64_t i = 0; i < batched_inputs; ++i)
        KILN_CHECK(
            in[static_cast<size_t>(i)].rank() > 0 && in[static_cast<size_t>(i)].shape()[0] == batch,
            n.context(), " input ", i, " ", describe(in[static_cast<size_t>(i)]),
            " does not have batch size ", batch);
    for (auto& s : shapes) s = drop_leading(s);
    std::vector<TensorVector> per_output(n.output_count());
    for (int64_t b = 0; b < batch; ++b) {
        TensorVector item(in.begin(), in.end());
        for (int64_t i = 0; i < batched_inputs; ++i)
            item[static_cast<size_t>(i)] = take_slice(in[static_cast<size_t>(i)], 0, b);
        TensorVector res = run_scan(n, p, plan, item, shapes, ctx);
        for (size_t j = 0; j < res.size(); ++j) per_output[j].push_back(res[j]);
    }
    out.assign(n.output_count(), Tensor());
    for (size_t j = 0; j < out.size(); ++j)
        out[j] = join(per_output[j], 0, true, n.output_type(j),
                      empty_concat_shape(n.output_shape(j), 0));
}

}  // namespace

void register_subgraph_ops(OpRegistry& r) {
    r.add({"If", "opset8", infer_if, eval_if});
    r.add({"Loop", "opset5", infer_loop, eval_loop});
    r.add({"Scan", "kiln1", infer_scan, eval_scan});
}

}  // namespace kiln
