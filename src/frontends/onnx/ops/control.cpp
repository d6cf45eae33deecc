// ONNX control flow (If, Loop, Scan), recurrent layers (RNN, GRU, LSTM) and NonMaxSuppression.
// If/Loop/Scan bodies are translated sub-graphs whose captured outer values become extra node
// inputs; see src/ops/control/subgraph.cpp for the port-map attributes.
#include <cmath>
#include <limits>

#include "frontends/onnx/graph_context.hpp"
#include "frontends/onnx/tensor_proto.hpp"
#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {

namespace {

std::vector<int64_t> iota(int64_t first, size_t count) {
    std::vector<int64_t> v(count);
    for (size_t i = 0; i < count; ++i) v[i] = first + static_cast<int64_t>(i);
    return v;
}

OutputVector translate_if(const NodeContext& ctx) {
    Subgraph then_g = ctx.attr_graph("then_branch");
    Subgraph else_g = ctx.attr_graph("else_branch");
    const size_t outs = then_g.model->results().size();
    ctx.check(else_g.model->results().size() == outs, "then_branch has ", outs,
              " outputs but else_branch has ", else_g.model->results().size());
    ctx.check(then_g.declared_inputs == 0 && else_g.declared_inputs == 0,
              "branches must not declare inputs");
    OutputVector inputs{ctx.input(0)};
    for (const auto& v : then_g.captured) inputs.push_back(v);
    for (const auto& v : else_g.captured) inputs.push_back(v);
    Attributes attrs{{"then_inputs", iota(1, then_g.captured.size())},
                     {"else_inputs", iota(1 + static_cast<int64_t>(then_g.captured.size()),
                                          else_g.captured.size())},
                     {"then_outputs", iota(0, outs)},
                     {"else_outputs", iota(0, outs)}};
    return ctx.make("If", inputs, attrs, {then_g.model, else_g.model});
}

// Appends Unsqueeze(axis 0) to the body results listed in `stacked`, so that concatenating the
// per-iteration values along axis 0 stacks them as ONNX scan outputs require.
std::shared_ptr<Model> with_stacked_results(const Model& body, size_t first_stacked) {
    std::vector<std::shared_ptr<Node>> results;
    for (size_t i = 0; i < body.results().size(); ++i) {
        const auto& r = body.results()[i];
        if (i < first_stacked) {
            results.push_back(r);
            continue;
        }
        auto axes = make_constant(Tensor::from_vector(std::vector<int64_t>{0}));
        auto un =
            make_node("Unsqueeze", {r->input(0), axes->output(0)}, {}, {}, r->name() + "/stacked");
        results.push_back(make_node("Result", {un->output(0)}, {}, {}, r->name()));
    }
    return std::make_shared<Model>(results, body.parameters(), std::vector<std::shared_ptr<Node>>{},
                                   body.name());
}

// The Loop body, with untyped declared inputs typed from the Loop's inputs (ONNX function
// bodies such as Range's leave the loop-carried inputs untyped).
Subgraph loop_body(const NodeContext& ctx) {
    const onnx::AttributeProto* attr = nullptr;
    for (const auto& a : ctx.proto().attribute())
        if (a.name() == "body") attr = &a;
    ctx.check(attr && attr->has_g(), "has no body graph");
    onnx::GraphProto graph = attr->g();
    for (int i = 0; i < graph.input_size(); ++i) {
        auto* type = graph.mutable_input(i)->mutable_type();
        if (type->has_tensor_type() && type->tensor_type().elem_type() != 0) continue;
        ElementType et = i == 0 ? ElementType::i64 : ElementType::boolean;
        if (i >= 2 && ctx.has_input(static_cast<size_t>(i))) {
            et = ctx.input(static_cast<size_t>(i)).element_type();
        }
        ctx.check(et != ElementType::dynamic, "body input ", i, " has no type");
        type->mutable_tensor_type()->set_elem_type(element_type_to_onnx(et));
    }
    GraphContext sub(ctx.graph().info(), &ctx.graph());
    return sub.translate(graph, ctx.name() + "/body");
}

OutputVector translate_loop(const NodeContext& ctx) {
    Subgraph g = loop_body(ctx);
    const size_t declared = g.declared_inputs;
    ctx.check(declared >= 2, "body must declare the iteration number and condition inputs");
    const size_t carried = declared - 2;
    const size_t results = g.model->results().size();
    ctx.check(results >= 1 + carried, "body has ", results, " outputs for ", carried,
              " loop-carried values");
    const size_t scans = results - 1 - carried;
    Output trip = ctx.has_input(0) ? ctx.input(0) : ctx.scalar(int64_t{-1});
    Output cond = ctx.has_input(1) ? ctx.input(1) : ctx.scalar(true);
    OutputVector inputs{trip, cond};
    for (size_t i = 0; i < carried; ++i) {
        ctx.check(ctx.has_input(2 + i), "loop-carried input ", 2 + i, " is missing");
        inputs.push_back(ctx.input(2 + i));
    }
    for (const auto& v : g.captured) inputs.push_back(v);
    std::vector<int64_t> body_inputs{-1, 1}, back_edges{-1, 0};
    for (size_t i = 0; i < carried; ++i) {
        body_inputs.push_back(2 + static_cast<int64_t>(i));
        back_edges.push_back(1 + static_cast<int64_t>(i));
    }
    for (size_t i = 0; i < g.captured.size(); ++i) {
        body_inputs.push_back(2 + static_cast<int64_t>(carried + i));
        back_edges.push_back(-1);
    }
    std::vector<int64_t> out_results = iota(1, carried + scans);
    std::vector<int64_t> concat(carried + scans, 0), axes(carried + scans, 0);
    for (size_t k = carried; k < carried + scans; ++k) concat[k] = 1;
    auto body = scans ? with_stacked_results(*g.model, 1 + carried) : g.model;
    Attributes attrs{{"body_inputs", body_inputs},
                     {"body_back_edges", back_edges},
                     {"body_condition_output_idx", int64_t{0}},
                     {"output_body_results", out_results},
                     {"output_concat", concat},
                     {"output_axes", axes}};
    return ctx.make("Loop", inputs, attrs, {body});
}

OutputVector translate_scan(const NodeContext& ctx) {
    Subgraph g = ctx.attr_graph("body");
    const int64_t scans = ctx.attr_int("num_scan_inputs");
    const bool batched = ctx.opset() < 9;  // Scan-8: leading batch axis, sequence_lens first
    OutputVector inputs;
    for (size_t i = batched ? 1 : 0; i < ctx.input_count(); ++i) inputs.push_back(ctx.input(i));
    ctx.check(!batched || !ctx.has_input(0), "Scan-8 sequence_lens is not supported");
    for (const auto& v : g.captured) inputs.push_back(v);
    Attributes attrs{{"num_scan_inputs", scans},
                     {"num_invariant_inputs", static_cast<int64_t>(g.captured.size())}};
    if (batched) {
        attrs.set("batched", int64_t{1});
        if (ctx.has_attr("directions"))
            attrs.set("scan_input_directions", ctx.attr_ints("directions"));
    }
    for (const char* name :
         {"scan_input_axes", "scan_input_directions", "scan_output_axes", "scan_output_directions"})
        if (ctx.has_attr(name)) attrs.set(name, ctx.attr_ints(name));
    return ctx.make("Scan", inputs, attrs, {g.model});
}

// Absent optional inputs of the recurrent and NMS ops are zero-element tensors.
Output absent(const NodeContext& ctx, ElementType type) {
    return ctx.constant(Tensor(type, Shape{0}));
}

OutputVector translate_recurrent(const NodeContext& ctx, const char* type, size_t max_inputs) {
    ElementType et = ctx.input(0).element_type();
    if (et == ElementType::dynamic) et = ElementType::f32;
    size_t last = 0;
    for (size_t i = 0; i < ctx.input_count() && i < max_inputs; ++i)
        if (ctx.has_input(i)) last = i;
    OutputVector inputs;
    for (size_t i = 0; i <= last; ++i)
        inputs.push_back(ctx.has_input(i) ? ctx.input(i)
                                          : absent(ctx, i == 4 ? ElementType::i32 : et));
    int64_t hidden = ctx.attr_int("hidden_size", 0);
    if (hidden <= 0) {
        const auto& rs = ctx.input(2).partial_shape();
        ctx.check(rs.rank_is_static() && rs.rank() == 3 && rs[2].is_static(),
                  "hidden_size is missing and R has no static shape");
        hidden = rs[2].get_length();
    }
    Attributes attrs{{"hidden_size", hidden},
                     {"direction", ctx.attr_string("direction", "forward")},
                     {"layout", ctx.attr_int("layout", 0)}};
    if (ctx.has_attr("activations")) attrs.set("activations", ctx.attr_strings("activations"));
    for (const char* name : {"activation_alpha", "activation_beta"}) {
        if (!ctx.has_attr(name)) continue;
        auto f = ctx.attr_floats(name);
        attrs.set(name, std::vector<double>(f.begin(), f.end()));
    }
    if (ctx.has_attr("clip")) attrs.set("clip", double{ctx.attr_float("clip")});
    if (ctx.has_attr("linear_before_reset"))
        attrs.set("linear_before_reset", ctx.attr_int("linear_before_reset"));
    if (ctx.has_attr("input_forget")) attrs.set("input_forget", ctx.attr_int("input_forget"));
    return ctx.make(type, inputs, attrs);
}

OutputVector translate_rnn(const NodeContext& ctx) {
    return translate_recurrent(ctx, "RNNSequenceONNX", 6);
}
OutputVector translate_gru(const NodeContext& ctx) {
    return translate_recurrent(ctx, "GRUSequenceONNX", 6);
}
OutputVector translate_lstm(const NodeContext& ctx) {
    return translate_recurrent(ctx, "LSTMSequenceONNX", 8);
}

OutputVector translate_nms(const NodeContext& ctx) {
    OutputVector inputs{ctx.input(0), ctx.input(1)};
    const ElementType ft = ElementType::f32;
    inputs.push_back(ctx.has_input(2) ? ctx.input(2) : absent(ctx, ElementType::i64));
    inputs.push_back(ctx.has_input(3) ? ctx.input(3) : absent(ctx, ft));
    // ONNX keeps every score when no threshold is given.
    inputs.push_back(ctx.has_input(4) ? ctx.input(4)
                                      : ctx.scalar(-std::numeric_limits<float>::infinity()));
    const int64_t center = ctx.attr_int("center_point_box", 0);
    ctx.check(center == 0 || center == 1, "center_point_box must be 0 or 1");
    Attributes attrs{{"box_encoding", std::string(center ? "center" : "corner")},
                     {"sort_result_descending", false},
                     {"output_type", std::string("i64")}};
    return {ctx.make("NonMaxSuppression", inputs, attrs).at(0)};
}

}  // namespace

void register_control_translators(TranslatorRegistry& r) {
    r.add("If", translate_if);
    r.add("Loop", translate_loop);
    r.add("Scan", translate_scan);
    r.add("RNN", translate_rnn);
    r.add("GRU", translate_gru);
    r.add("LSTM", translate_lstm);
    r.add("NonMaxSuppression", translate_nms);
}

}  // namespace kiln::onnx_fe
