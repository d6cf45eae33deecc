#pragma once
/// \file Model: a graph with Parameters (inputs) and Results (outputs).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/node.hpp"

namespace kiln {

class Model {
public:
    /// `results` may be outputs of any node: a Result node is added for each that is not one.
    Model(const OutputVector& results, std::vector<std::shared_ptr<Node>> parameters,
          std::string name = "model");
    Model(std::vector<std::shared_ptr<Node>> results, std::vector<std::shared_ptr<Node>> parameters,
          std::vector<std::shared_ptr<Node>> sinks, std::string name = "model");

    const std::string& name() const { return name_; }
    const std::vector<std::shared_ptr<Node>>& parameters() const { return parameters_; }
    const std::vector<std::shared_ptr<Node>>& results() const { return results_; }
    /// Nodes with no consumers that must still run (Assign of stateful models).
    const std::vector<std::shared_ptr<Node>>& sinks() const { return sinks_; }
    /// Drops a sink whose effect a pass has folded into another node (a fused KV-cache update).
    void remove_sink(const std::shared_ptr<Node>& sink);

    /// Model inputs are the Parameters' outputs; model outputs are the Results' inputs.
    OutputVector inputs() const;
    OutputVector outputs() const;
    /// Finds an input/output by tensor name; throws a clear error listing the names otherwise.
    Output input(const std::string& name) const;
    Output output(const std::string& name) const;
    size_t parameter_index(const std::string& name) const;
    size_t result_index(const std::string& name) const;

    /// Every node reachable from results and sinks, producers before consumers.
    std::vector<std::shared_ptr<Node>> ordered_ops() const;
    /// Checks structure: parameters reachable and unique, results well formed, no cycles.
    void validate() const;
    /// Re-runs type/shape inference over the whole graph in order.
    void infer_types();
    /// Gives inputs new (partial) shapes by tensor name, e.g. a static batch before compiling,
    /// and re-infers every shape. On error (an unknown name, a shape the graph rejects) the model
    /// keeps its previous shapes and the error names the input.
    void reshape(const std::map<std::string, PartialShape>& shapes);
    /// The same, for a model with one input.
    void reshape(const PartialShape& shape);
    /// Deep copy of the graph (constants share their buffers).
    std::shared_ptr<Model> clone() const;

    std::map<std::string, std::string>& rt_info() { return rt_info_; }
    const std::map<std::string, std::string>& rt_info() const { return rt_info_; }

private:
    std::string name_;
    std::vector<std::shared_ptr<Node>> parameters_;
    std::vector<std::shared_ptr<Node>> results_;
    std::vector<std::shared_ptr<Node>> sinks_;
    std::map<std::string, std::string> rt_info_;
};

}  // namespace kiln
