// TensorIterator (OpenVINO opset1): runs its body once per part of the sliced inputs.
// Bodies [body]; port maps as int-list attributes, one entry per body parameter k:
//   body_inputs[k]      the TensorIterator input feeding parameter k
//   body_back_edges[k]  body result feeding parameter k on the next iteration, or -1
//   input_part_sizes[k] 0: the whole input (merged or invariant); > 0: the input is cut into
//                       parts of this size along input_axes[k], one part per iteration
//   input_strides[k]    negative: parts are taken from the end of the axis backwards
// and one entry per output j:
//   output_body_results[j], output_concat[j] (0: last iteration, 1: concatenated along
//   output_axes[j]), output_strides[j] (negative: iterations concatenated in reverse order).
// num_iterations gives the count when no input is sliced.
#include <algorithm>

#include "core/op_def.hpp"
#include "ops/control/tensor_slices.hpp"
#include "ops/reference_executor.hpp"

namespace kiln {
namespace {

struct TiPorts {
    std::vector<int64_t> inputs, back_edges, part_sizes, in_axes, in_strides;
    std::vector<int64_t> out_results, out_concat, out_axes, out_strides;
};

TiPorts ti_ports(const Node& n) {
    const auto& a = n.attrs();
    TiPorts p;
    KILN_CHECK(n.bodies().size() == 1 && n.bodies()[0], n.context(), " needs one body");
    const size_t params = n.bodies()[0]->parameters().size();
    const size_t results = n.bodies()[0]->results().size();
    auto list = [&](const char* name, size_t count, int64_t dflt) {
        auto v = a.get_ints(name, std::vector<int64_t>(count, dflt));
        KILN_CHECK(v.size() == count, n.context(), " ", name, " has ", v.size(),
                   " entries, expected ", count);
        return v;
    };
    p.inputs = list("body_inputs", params, 0);
    p.back_edges = list("body_back_edges", params, -1);
    p.part_sizes = list("input_part_sizes", params, 0);
    p.in_axes = list("input_axes", params, 0);
    p.in_strides = list("input_strides", params, 1);
    p.out_results = a.get_ints("output_body_results", {});
    const size_t outs = p.out_results.size();
    p.out_concat = list("output_concat", outs, 0);
    p.out_axes = list("output_axes", outs, 0);
    p.out_strides = list("output_strides", outs, 1);
    for (size_t k = 0; k < params; ++k) {
        KILN_CHECK(p.inputs[k] >= 0 && p.inputs[k] < static_cast<int64_t>(n.input_count()),
                   n.context(), " body_inputs[", k, "] = ", p.inputs[k], " is not an input");
        KILN_CHECK(p.back_edges[k] < static_cast<int64_t>(results) && p.part_sizes[k] >= 0,
                   n.context(), " bad port map for body parameter ", k);
    }
    for (int64_t r : p.out_results)
        KILN_CHECK(r >= 0 && r < static_cast<int64_t>(results), n.context(), " body result ", r,
                   " does not exist");
    return p;
}

void infer_ti(ShapeContext& ctx) {
    const TiPorts p = ti_ports(ctx.node());
    const Model& body = *ctx.node().bodies()[0];
    for (size_t j = 0; j < p.out_results.size(); ++j) {
        const Output& r = body.results()[static_cast<size_t>(p.out_results[j])]->input(0);
        PartialShape s = r.partial_shape();
        if (p.out_concat[j] && s.rank_is_static()) {
            int64_t axis = p.out_axes[j] < 0 ? p.out_axes[j] + s.rank() : p.out_axes[j];
            ctx.check(axis >= 0 && axis < s.rank(), "output_axes[", j, "] is outside rank ",
                      s.rank());
            s[static_cast<size_t>(axis)] = Dimension();
        }
        ctx.set_output(j, r.element_type(), s);
    }
}

void eval_ti(const Node& n, const TensorVector& in, TensorVector& out, ExecContext& ctx) {
    const TiPorts p = ti_ports(n);
    const Model& body = *n.bodies()[0];
    int64_t iterations = n.attrs().get_int("num_iterations", -1);
    std::vector<int64_t> axes(p.inputs.size(), 0);
    for (size_t k = 0; k < p.inputs.size(); ++k) {
        if (p.part_sizes[k] == 0) continue;
        const Tensor& t = in[static_cast<size_t>(p.inputs[k])];
        axes[k] = p.in_axes[k] < 0 ? p.in_axes[k] + t.rank() : p.in_axes[k];
        KILN_CHECK(axes[k] >= 0 && axes[k] < t.rank(), n.context(), " input axis ", p.in_axes[k],
                   " is outside ", describe(t));
        const int64_t parts = t.shape()[static_cast<size_t>(axes[k])] / p.part_sizes[k];
        KILN_CHECK(iterations < 0 || parts == iterations, n.context(),
                   " sliced inputs give different iteration counts: ", iterations, " vs ", parts);
        iterations = parts;
    }
    KILN_CHECK(iterations >= 0, n.context(), " has no sliced input and no num_iterations");
    TensorVector params(p.inputs.size());
    for (size_t k = 0; k < p.inputs.size(); ++k)
        if (p.part_sizes[k] == 0) params[k] = in[static_cast<size_t>(p.inputs[k])];
    ReferencePlan plan(std::shared_ptr<const Model>(&body, [](const Model*) {}));
    std::vector<TensorVector> parts(p.out_results.size());
    TensorVector last;
    for (int64_t i = 0; i < iterations; ++i) {
        for (size_t k = 0; k < p.inputs.size(); ++k) {
            if (p.part_sizes[k] == 0) continue;
            const int64_t idx = p.in_strides[k] < 0 ? iterations - 1 - i : i;
            params[k] = control::narrow(in[static_cast<size_t>(p.inputs[k])], axes[k],
                                        idx * p.part_sizes[k], p.part_sizes[k]);
        }
        last = plan.run(params, ctx);
        for (size_t j = 0; j < p.out_results.size(); ++j)
            if (p.out_concat[j]) parts[j].push_back(last[static_cast<size_t>(p.out_results[j])]);
        for (size_t k = 0; k < p.back_edges.size(); ++k)
            if (p.back_edges[k] >= 0) params[k] = last[static_cast<size_t>(p.back_edges[k])];
    }
    KILN_CHECK(iterations > 0, n.context(), " ran no iteration");
    out.assign(p.out_results.size(), Tensor());
    for (size_t j = 0; j < p.out_results.size(); ++j) {
        if (!p.out_concat[j]) {
            out[j] = last[static_cast<size_t>(p.out_results[j])];
            continue;
        }
        auto& v = parts[j];
        if (p.out_strides[j] < 0) std::reverse(v.begin(), v.end());
        const int64_t axis = p.out_axes[j] < 0 ? p.out_axes[j] + v[0].rank() : p.out_axes[j];
        out[j] = control::join(v, axis, false, n.output_type(j), {});
    }
}

}  // namespace

void register_tensor_iterator_ops(OpRegistry& r) {
    r.add({"TensorIterator", "opset1", infer_ti, eval_ti});
}

}  // namespace kiln
