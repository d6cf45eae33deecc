#pragma once
/// \file Graph nodes: an operation type, attributes, input edges and typed outputs.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kiln/attributes.hpp"
#include "kiln/element_type.hpp"
#include "kiln/shape.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

class Node;
class Model;
struct OpDef;

/// One output port of a node: the handle used to wire graphs together.
struct Output {
    std::shared_ptr<Node> node;
    size_t index = 0;

    ElementType element_type() const;
    const PartialShape& partial_shape() const;
    const std::set<std::string>& names() const;
    /// The first tensor name, or "<node name>:<index>" when unnamed.
    std::string any_name() const;
    bool operator==(const Output& o) const { return node == o.node && index == o.index; }
    bool operator<(const Output& o) const {
        return node != o.node ? node < o.node : index < o.index;
    }
};
using OutputVector = std::vector<Output>;

/// Type and shape of one output, plus its tensor names.
struct PortInfo {
    ElementType type = ElementType::dynamic;
    PartialShape shape;
    std::set<std::string> names;
};

/// A node of the graph. Nodes are made by `make_node`, which looks the type up in the op registry
/// and runs type/shape inference, so a node that exists is always valid.
class Node : public std::enable_shared_from_this<Node> {
public:
    const std::string& type() const { return type_; }
    /// Opset the semantics follow, e.g. "opset8" (written as `version` in IR files).
    const std::string& version() const;
    const std::string& name() const { return name_; }
    void set_name(std::string n) { name_ = std::move(n); }
    /// "[Type 'name']", the prefix of every error about this node.
    std::string context() const;

    size_t input_count() const { return inputs_.size(); }
    const Output& input(size_t i) const { return inputs_.at(i); }
    const OutputVector& inputs() const { return inputs_; }
    void set_input(size_t i, Output o) { inputs_.at(i) = std::move(o); }
    ElementType input_type(size_t i) const { return inputs_.at(i).element_type(); }
    const PartialShape& input_shape(size_t i) const { return inputs_.at(i).partial_shape(); }
    /// The value of input i when it comes straight from a Constant node, else null.
    const Tensor* input_constant(size_t i) const;

    size_t output_count() const { return outputs_.size(); }
    Output output(size_t i) { return Output{shared_from_this(), i}; }
    OutputVector outputs();
    const PortInfo& output_info(size_t i) const { return outputs_.at(i); }
    PortInfo& output_info(size_t i) { return outputs_.at(i); }
    ElementType output_type(size_t i) const { return outputs_.at(i).type; }
    const PartialShape& output_shape(size_t i) const { return outputs_.at(i).shape; }

    const Attributes& attrs() const { return attrs_; }
    Attributes& attrs() { return attrs_; }
    /// Sub-graphs of control-flow operations (If: then, else; Loop: body).
    const std::vector<std::shared_ptr<Model>>& bodies() const { return bodies_; }
    std::vector<std::shared_ptr<Model>>& bodies() { return bodies_; }
    /// Constant payload (Const nodes only).
    const Tensor& value() const { return value_; }
    /// Drops the payload of a compiled model's Const node that only device kernels read, from
    /// their own repacked copy; the output keeps its type and shape, value() becomes empty.
    void release_value() { value_ = Tensor(); }
    /// Free-form runtime information, kept through IR files.
    std::map<std::string, std::string>& rt_info() { return rt_info_; }
    const std::map<std::string, std::string>& rt_info() const { return rt_info_; }

    const OpDef& def() const { return *def_; }
    /// Re-runs type and shape inference (after inputs changed).
    void infer();

private:
    friend std::shared_ptr<Node> make_node(const std::string&, OutputVector, Attributes,
                                           std::vector<std::shared_ptr<Model>>, std::string);
    friend std::shared_ptr<Node> make_constant(Tensor, std::string);
    friend std::shared_ptr<Node> make_parameter(ElementType, PartialShape, std::string);

    std::string type_;
    std::string name_;
    OutputVector inputs_;
    std::vector<PortInfo> outputs_;
    Attributes attrs_;
    std::vector<std::shared_ptr<Model>> bodies_;
    Tensor value_;
    std::map<std::string, std::string> rt_info_;
    const OpDef* def_ = nullptr;
};

/// Builds a node of a registered type and infers its outputs; throws kiln::Error naming the node
/// when the type is unknown or the inputs are invalid for it.
std::shared_ptr<Node> make_node(const std::string& type, OutputVector inputs, Attributes attrs = {},
                                std::vector<std::shared_ptr<Model>> bodies = {},
                                std::string name = "");
std::shared_ptr<Node> make_constant(Tensor value, std::string name = "");
std::shared_ptr<Node> make_parameter(ElementType type, PartialShape shape, std::string name = "");
/// Shorthand for the single output of make_node.
Output make_op(const std::string& type, OutputVector inputs, Attributes attrs = {});

}  // namespace kiln
