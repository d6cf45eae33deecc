// Operators without a translator but with a function body in their ONNX schema (LayerNorm, the
// losses, Celu, ...) are expanded into that body, so every op ONNX defines by composition works
// as soon as its parts do.
#include <functional>
#include <map>
#include <set>

#include "frontends/onnx/graph_context.hpp"
#include "frontends/onnx/tensor_proto.hpp"
#include "onnx/defs/schema.h"

namespace kiln::onnx_fe {

void GraphContext::expand_function(const onnx::NodeProto& node, int64_t version) {
    const std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
    const std::string name = node.name().empty() && node.output_size() ? node.output(0) : node.name();
    auto unsupported = [&](const char* why) {
        KILN_THROW("[ONNX ", node.op_type(), " '", name, "' (opset ", version,
                   ")] unsupported operator ", node.op_type(), " of domain ", domain,
                   ", opset ", version, ": ", why);
    };
    const onnx::OpSchema* schema =
        onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(version), node.domain());
    if (!schema) unsupported("no such operator in this opset");

    onnx::FunctionProto fn;
    bool have = false;
    if (schema->HasFunction()) {
        fn = *schema->GetFunction();
        have = true;
    } else if (schema->HasContextDependentFunction()) {
        std::vector<onnx::TypeProto> types;
        for (const auto& in : node.input()) {
            onnx::TypeProto tp;
            if (!in.empty()) {
                Output v = lookup(in);
                auto* tt = tp.mutable_tensor_type();
                tt->set_elem_type(element_type_to_onnx(v.element_type()));
                if (v.partial_shape().rank_is_static()) {
                    auto* shape = tt->mutable_shape();
                    for (const auto& d : v.partial_shape().dims()) {
                        auto* dim = shape->add_dim();
                        if (d.is_static()) dim->set_dim_value(d.get_length());
                    }
                }
            }
            types.push_back(tp);
        }
        onnx::FunctionBodyBuildContextImpl ctx(node, types);
        have = schema->BuildContextDependentFunction(ctx, fn);
    }
    if (!have) unsupported("Kiln has no translator for it and ONNX defines no function body");

    const std::string prefix = str_cat(name, "/", node.op_type(), "#", expansion_counter_++, "/");
    std::map<std::string, std::string> rename;
    for (int i = 0; i < fn.input_size(); ++i)
        rename[fn.input(i)] = i < node.input_size() ? node.input(i) : std::string();
    for (int i = 0; i < fn.output_size(); ++i)
        rename[fn.output(i)] = i < node.output_size() ? node.output(i) : std::string();
    auto map_name = [&](const std::string& n) {
        if (n.empty()) return n;
        auto it = rename.find(n);
        return it != rename.end() ? it->second : prefix + n;
    };

    // Sub-graphs of body nodes (Range's Loop, ...) read function-scope names from the enclosing
    // scope: rename those, but not the names a sub-graph defines itself.
    std::function<void(onnx::GraphProto&)> rename_outer_refs = [&](onnx::GraphProto& g) {
        std::set<std::string> local;
        for (const auto& v : g.input()) local.insert(v.name());
        for (const auto& t : g.initializer()) local.insert(t.name());
        for (const auto& n : g.node())
            for (const auto& o : n.output()) local.insert(o);
        auto outer = [&](std::string& name) {
            if (!name.empty() && !local.count(name)) name = map_name(name);
        };
        for (auto& n : *g.mutable_node()) {
            for (auto& in : *n.mutable_input()) outer(in);
            for (auto& a : *n.mutable_attribute()) {
                if (a.has_g()) rename_outer_refs(*a.mutable_g());
                for (auto& sg : *a.mutable_graphs()) rename_outer_refs(sg);
            }
        }
        for (auto& v : *g.mutable_output()) outer(*v.mutable_name());
    };

    auto saved = opset_override_;
    for (const auto& op : fn.opset_import())
        opset_override_[op.domain() == "ai.onnx" ? "" : op.domain()] = op.version();
    try {
        for (const auto& body_node : fn.node()) {
            onnx::NodeProto n = body_node;
            for (auto& in : *n.mutable_input()) in = map_name(in);
            for (auto& out : *n.mutable_output()) out = map_name(out);
            n.set_name(prefix + body_node.op_type());
            n.clear_attribute();
            for (const auto& a : body_node.attribute()) {
                if (a.ref_attr_name().empty()) {
                    auto* copy = n.add_attribute();
                    *copy = a;
                    if (copy->has_g()) rename_outer_refs(*copy->mutable_g());
                    for (auto& sg : *copy->mutable_graphs()) rename_outer_refs(sg);
                    continue;
                }
                const onnx::AttributeProto* value = nullptr;
                for (const auto& outer : node.attribute())
                    if (outer.name() == a.ref_attr_name()) value = &outer;
                if (!value) {
                    // The caller left it unset: the schema's default applies, as in ONNX.
                    auto it = schema->attributes().find(a.ref_attr_name());
                    if (it != schema->attributes().end() && it->second.default_value.has_type())
                        value = &it->second.default_value;
                }
                if (value) {
                    auto* copy = n.add_attribute();
                    *copy = *value;
                    copy->set_name(a.name());
                }
            }
            translate_node(n);
        }
    } catch (...) {
        opset_override_ = saved;
        throw;
    }
    opset_override_ = saved;
}

}  // namespace kiln::onnx_fe
