#include "frontends/onnx/graph_context.hpp"

#include <algorithm>
#include <set>

#include "frontends/onnx/tensor_proto.hpp"
#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {

namespace {

std::string canonical(const std::string& domain) { return domain == "ai.onnx" ? "" : domain; }

PartialShape shape_from_type(const onnx::TypeProto::Tensor& tt) {
    if (!tt.has_shape()) return PartialShape();
    std::vector<Dimension> dims;
    for (const auto& d : tt.shape().dim()) {
        if (d.has_dim_value() && d.dim_value() >= 0) dims.emplace_back(d.dim_value());
        else dims.emplace_back();
    }
    return PartialShape(dims);
}

}  // namespace

int64_t GraphContext::opset(const std::string& domain) const {
    auto ov = opset_override_.find(canonical(domain));
    if (ov != opset_override_.end()) return ov->second;
    auto it = info_.opsets.find(canonical(domain));
    if (it != info_.opsets.end()) return it->second;
    // ONNX lets a model omit an import for ai.onnx.ml etc.; version 1 is the oldest.
    return 1;
}

bool GraphContext::knows(const std::string& name) const {
    return values_.count(name) || (parent_ && parent_->knows(name));
}

void GraphContext::bind_sequence(const std::string& name, OutputVector elements) {
    sequences_[name] = std::move(elements);
}

const OutputVector& GraphContext::sequence(const std::string& name) const {
    auto it = sequences_.find(name);
    if (it != sequences_.end()) return it->second;
    KILN_CHECK(!parent_ || !parent_->sequences_.count(name), "ONNX sequence '", name,
               "' from an enclosing graph cannot be used inside a sub-graph");
    KILN_THROW("ONNX value '", name, "' is not a sequence whose length is known when the model "
               "is read (Kiln supports sequences of static length only)");
}

void GraphContext::bind(const std::string& name, const Output& value) {
    values_[name] = value;
    value.node->output_info(value.index).names.insert(name);
}

Output GraphContext::lookup(const std::string& name) {
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    KILN_CHECK(!sequences_.count(name), "ONNX value '", name,
               "' is a sequence where a tensor is expected");
    KILN_CHECK(parent_ && parent_->knows(name), "ONNX value '", name,
               "' is used before it is defined");
    Output outer = parent_->lookup(name);
    Output local;
    if (outer.node->type() == "Const") {
        local = make_constant(outer.node->value(), name)->output(0);
    } else {
        auto p = make_parameter(outer.element_type(), outer.partial_shape(), name);
        captured_.emplace_back(outer, p);
        local = p->output(0);
    }
    bind(name, local);
    return local;
}

void GraphContext::translate_node(const onnx::NodeProto& node) {
    const int64_t version = opset(node.domain());
    Translator t = translators().find(node.domain(), node.op_type());
    if (!t) {
        expand_function(node, version);
        return;
    }
    NodeContext ctx(*this, node, version);
    OutputVector outs;
    try {
        outs = t(ctx);
    } catch (const Error& e) {
        const std::string msg = e.what();
        if (msg.rfind("[ONNX", 0) == 0) throw;
        ctx.fail(msg);
    }
    // No outputs (and no sequences bound by the translator itself): the translator leaves this
    // form of the operator to the schema's function body.
    const bool bound_sequences =
        std::any_of(node.output().begin(), node.output().end(),
                    [&](const std::string& o) { return sequences_.count(o) > 0; });
    if (outs.empty() && node.output_size() > 0 && !bound_sequences) {
        expand_function(node, version);
        return;
    }
    for (size_t i = 0; i < static_cast<size_t>(node.output_size()); ++i) {
        const std::string& name = node.output(static_cast<int>(i));
        if (name.empty() || sequences_.count(name)) continue;
        ctx.check(i < outs.size(), "produces ", outs.size(), " outputs but output ", i, " ('",
                  name, "') is used");
        bind(name, outs[i]);
    }
}

Subgraph GraphContext::translate_releasing(onnx::GraphProto& graph, const std::string& name) {
    for (int i = 0; i < graph.initializer_size(); ++i) {
        bind_initializer(graph.initializer(i));
        // Only the name is read after this: give the bytes back now.
        onnx::TensorProto& init = *graph.mutable_initializer(i);
        std::string().swap(*init.mutable_raw_data());
        init.clear_float_data();
        init.clear_int64_data();
        init.clear_int32_data();
        init.clear_double_data();
        init.clear_uint64_data();
    }
    return translate_nodes(graph, name);
}

void GraphContext::bind_initializer(const onnx::TensorProto& init) {
    Tensor t;
    try {
        t = tensor_from_proto(init, info_.base_dir);
    } catch (const Error& e) {
        KILN_THROW("ONNX initializer '", init.name(), "': ", e.what());
    }
    bind(init.name(), make_constant(std::move(t), init.name())->output(0));
}

Subgraph GraphContext::translate(const onnx::GraphProto& graph, const std::string& name) {
    for (const auto& init : graph.initializer()) bind_initializer(init);
    return translate_nodes(graph, name);
}

Subgraph GraphContext::translate_nodes(const onnx::GraphProto& graph, const std::string& name) {
    for (const auto& sparse : graph.sparse_initializer())
        KILN_THROW("ONNX sparse initializer '", sparse.values().name(), "' is not supported");

    std::vector<std::shared_ptr<Node>> params;
    for (const auto& in : graph.input()) {
        if (values_.count(in.name())) continue;  // an initializer also listed as an input
        const auto& type = in.type();
        KILN_CHECK(type.has_tensor_type(), "ONNX graph input '", in.name(),
                   "' is not a tensor (sequence, map and optional inputs are not supported)");
        ElementType et = element_type_from_onnx(type.tensor_type().elem_type());
        auto p = make_parameter(et, shape_from_type(type.tensor_type()), in.name());
        params.push_back(p);
        bind(in.name(), p->output(0));
    }
    const size_t declared = params.size();
    for (const auto& node : graph.node()) translate_node(node);

    OutputVector results;
    for (const auto& out : graph.output()) {
        KILN_CHECK(!sequences_.count(out.name()), "ONNX graph output '", out.name(),
                   "' is a sequence; Kiln models output tensors only");
        KILN_CHECK(values_.count(out.name()) || knows(out.name()), "ONNX graph output '",
                   out.name(), "' is not produced by any node");
        results.push_back(lookup(out.name()));
    }
    std::vector<std::shared_ptr<Node>> result_nodes;
    for (size_t i = 0; i < results.size(); ++i) {
        auto r = make_node("Result", {results[i]}, {}, {}, graph.output(static_cast<int>(i)).name());
        result_nodes.push_back(r);
    }
    Subgraph sg;
    sg.declared_inputs = declared;
    for (const auto& [outer, param] : captured_) {
        params.push_back(param);
        sg.captured.push_back(outer);
    }
    sg.model = std::make_shared<Model>(result_nodes, params, std::vector<std::shared_ptr<Node>>{},
                                       name);
    return sg;
}

std::shared_ptr<Model> translate_model(onnx::ModelProto& proto, const std::string& base_dir,
                                       const std::string& name) {
    ModelInfo info;
    info.base_dir = base_dir;
    for (const auto& op : proto.opset_import()) info.opsets[canonical(op.domain())] = op.version();
    if (!info.opsets.count("")) info.opsets[""] = 1;
    KILN_CHECK(proto.has_graph(), "ONNX model has no graph");
    GraphContext ctx(info);
    Subgraph sg = ctx.translate_releasing(*proto.mutable_graph(), name);
    for (const auto& p : proto.metadata_props()) sg.model->rt_info()["onnx_meta/" + p.key()] = p.value();
    return sg.model;
}

}  // namespace kiln::onnx_fe
