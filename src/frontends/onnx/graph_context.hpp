#pragma once
// Translation state of one ONNX graph: the values visible by name, the opsets in force, and the
// link to the enclosing graph for sub-graphs (If/Loop/Scan bodies).
#include <map>
#include <memory>
#include <string>

#include "frontends/onnx/node_context.hpp"

namespace kiln::onnx_fe {

struct ModelInfo {
    std::map<std::string, int64_t> opsets;  // domain ("" = ai.onnx) -> version
    std::string base_dir;                   // for external data
};

class GraphContext {
public:
    GraphContext(const ModelInfo& info, GraphContext* parent = nullptr)
        : info_(info), parent_(parent) {}

    /// Translates `graph`; for a sub-graph the result's extra parameters capture outer values.
    Subgraph translate(const onnx::GraphProto& graph, const std::string& name);
    /// The same for the main graph, whose initializer bytes are released as soon as they are
    /// copied into constants, so a large model is not held twice while it is read.
    Subgraph translate_releasing(onnx::GraphProto& graph, const std::string& name);

    /// The value named `name`, from this graph or (captured) from an enclosing one.
    Output lookup(const std::string& name);
    bool knows(const std::string& name) const;
    /// ONNX sequences whose length is known while translating are kept as lists of values:
    /// sequence ops then become ordinary tensor ops on the elements.
    void bind_sequence(const std::string& name, OutputVector elements);
    /// The elements of a sequence value; throws when `name` is not a known sequence.
    const OutputVector& sequence(const std::string& name) const;
    void bind(const std::string& name, const Output& value);
    const ModelInfo& info() const { return info_; }
    int64_t opset(const std::string& domain) const;

    /// Translates one node (through its translator, or its ONNX function body when it has no
    /// translator) and binds its outputs.
    void translate_node(const onnx::NodeProto& node);

private:
    void expand_function(const onnx::NodeProto& node, int64_t opset);
    void bind_initializer(const onnx::TensorProto& init);
    Subgraph translate_nodes(const onnx::GraphProto& graph, const std::string& name);

    const ModelInfo& info_;
    GraphContext* parent_;
    std::map<std::string, Output> values_;
    std::map<std::string, OutputVector> sequences_;
    std::vector<std::pair<Output, std::shared_ptr<Node>>> captured_;  // outer value -> parameter
    size_t expansion_counter_ = 0;
    // Opsets imported by an ONNX function body while it is being expanded.
    std::map<std::string, int64_t> opset_override_;
};

/// Parses and translates a whole ModelProto.
std::shared_ptr<Model> translate_model(onnx::ModelProto& proto, const std::string& base_dir,
                                       const std::string& name);

}  // namespace kiln::onnx_fe
