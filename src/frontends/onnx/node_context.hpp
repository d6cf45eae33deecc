#pragma once
// What an ONNX translator sees of one NodeProto: its inputs as core graph outputs, typed attribute
// accessors, the opset in force, and sub-graphs translated with access to the outer scope.
#include <memory>
#include <string>

#include "core/op_def.hpp"
#include "kiln/model.hpp"
#include "onnx/onnx_pb.h"

namespace kiln::onnx_fe {

class GraphContext;

/// A translated ONNX sub-graph. The model's parameters are the graph's declared inputs followed
/// by one parameter per value captured from an enclosing scope; `captured` lists those values
/// in the same order, as seen from the enclosing graph.
struct Subgraph {
    std::shared_ptr<Model> model;
    size_t declared_inputs = 0;
    OutputVector captured;
};

class NodeContext {
public:
    NodeContext(GraphContext& graph, const onnx::NodeProto& proto, int64_t opset)
        : graph_(graph), proto_(proto), opset_(opset) {}

    const onnx::NodeProto& proto() const { return proto_; }
    const std::string& op_type() const { return proto_.op_type(); }
    const std::string& domain() const { return proto_.domain(); }
    /// Node name, or the first output name when the node is unnamed.
    std::string name() const;
    /// Version of the node's domain imported by the model (e.g. 13 for ai.onnx opset 13).
    int64_t opset() const { return opset_; }

    /// Number of inputs listed (including empty optional ones).
    size_t input_count() const { return static_cast<size_t>(proto_.input_size()); }
    /// True when input i is listed and not the empty name (optional input given).
    bool has_input(size_t i) const;
    /// Input i as a graph value; throws when absent.
    Output input(size_t i) const;
    /// Every non-empty input, in order.
    OutputVector inputs() const;
    /// The value of input i when it is a constant (initializer or folded), else null.
    const Tensor* input_constant(size_t i) const;
    /// Number of outputs listed by the node (including empty optional ones).
    size_t output_count() const { return static_cast<size_t>(proto_.output_size()); }
    /// True when output i is listed with a non-empty name (the graph wants it).
    bool has_output(size_t i) const;

    bool has_attr(const std::string& name) const;
    int64_t attr_int(const std::string& name, int64_t dflt) const;
    int64_t attr_int(const std::string& name) const;
    float attr_float(const std::string& name, float dflt) const;
    float attr_float(const std::string& name) const;
    std::string attr_string(const std::string& name, const std::string& dflt) const;
    std::string attr_string(const std::string& name) const;
    std::vector<int64_t> attr_ints(const std::string& name, std::vector<int64_t> dflt) const;
    std::vector<int64_t> attr_ints(const std::string& name) const;
    std::vector<float> attr_floats(const std::string& name, std::vector<float> dflt) const;
    std::vector<float> attr_floats(const std::string& name) const;
    std::vector<std::string> attr_strings(const std::string& name) const;
    Tensor attr_tensor(const std::string& name) const;
    /// Translates a GRAPH attribute as a sub-graph of the current graph.
    Subgraph attr_graph(const std::string& name) const;

    /// A new Const node output.
    Output constant(Tensor t) const;
    template <class T>
    Output constant(const std::vector<T>& v, Shape shape) const {
        return constant(Tensor::from_vector(v, std::move(shape)));
    }
    template <class T>
    Output scalar(T v) const {
        return constant(Tensor::scalar(v));
    }
    /// Builds a core node named after this ONNX node; returns all its outputs.
    OutputVector make(const std::string& type, OutputVector inputs, Attributes attrs = {},
                      std::vector<std::shared_ptr<Model>> bodies = {}) const;
    /// Shorthand for single-output ops.
    Output op(const std::string& type, OutputVector inputs, Attributes attrs = {}) const {
        return make(type, std::move(inputs), std::move(attrs)).at(0);
    }

    /// Throws kiln::Error naming the node: "[ONNX Conv 'conv1' (opset 13)] ...".
    template <class... Args>
    [[noreturn]] void fail(const Args&... args) const {
        throw Error(str_cat(context(), " ", args...));
    }
    template <class... Args>
    void check(bool cond, const Args&... args) const {
        if (!cond) fail(args...);
    }
    std::string context() const;

    GraphContext& graph() const { return graph_; }

private:
    const onnx::AttributeProto* find_attr(const std::string& name) const;
    const onnx::AttributeProto& get_attr(const std::string& name) const;

    GraphContext& graph_;
    const onnx::NodeProto& proto_;
    int64_t opset_;
};

/// A translator turns one ONNX node into core graph values, one per ONNX output (missing
/// trailing outputs may be omitted). No outputs at all asks for the schema's function body.
using Translator = OutputVector (*)(const NodeContext&);

}  // namespace kiln::onnx_fe
