#include "kiln/model.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/op_def.hpp"

namespace kiln {

namespace {
std::string list_names(const OutputVector& ports) {
    std::string s;
    for (const auto& p : ports) {
        if (!s.empty()) s += ", ";
        s += "'" + p.any_name() + "'";
    }
    return s;
}
}  // namespace

Model::Model(const OutputVector& results, std::vector<std::shared_ptr<Node>> parameters,
             std::string name)
    : name_(std::move(name)), parameters_(std::move(parameters)) {
    for (const auto& r : results) {
        KILN_CHECK(r.node, "model '", name_, "': null result");
        if (r.node->type() == "Result") {
            results_.push_back(r.node);
        } else {
            results_.push_back(make_node("Result", {r}, {}, {}, r.any_name()));
        }
    }
    validate();
}

Model::Model(std::vector<std::shared_ptr<Node>> results,
             std::vector<std::shared_ptr<Node>> parameters, std::vector<std::shared_ptr<Node>> sinks,
             std::string name)
    : name_(std::move(name)),
      parameters_(std::move(parameters)),
      results_(std::move(results)),
      sinks_(std::move(sinks)) {
    validate();
}

void Model::remove_sink(const std::shared_ptr<Node>& sink) {
    auto it = std::find(sinks_.begin(), sinks_.end(), sink);
    KILN_CHECK(it != sinks_.end(), "model '", name_, "': ", sink ? sink->context() : "null",
               " is not a sink");
    sinks_.erase(it);
}

OutputVector Model::inputs() const {
    OutputVector v;
    for (const auto& p : parameters_) v.push_back(p->output(0));
    return v;
}

OutputVector Model::outputs() const {
    OutputVector v;
    for (const auto& r : results_) v.push_back(r->input(0));
    return v;
}

size_t Model::parameter_index(const std::string& name) const {
    for (size_t i = 0; i < parameters_.size(); ++i) {
        if (parameters_[i]->output_info(0).names.count(name) || parameters_[i]->name() == name)
            return i;
    }
    KILN_THROW("model '", name_, "' has no input named '", name, "'; inputs are ",
               list_names(inputs()));
}

size_t Model::result_index(const std::string& name) const {
    for (size_t i = 0; i < results_.size(); ++i) {
        const auto& in = results_[i]->input(0);
        if (in.names().count(name) || results_[i]->name() == name) return i;
    }
    KILN_THROW("model '", name_, "' has no output named '", name, "'; outputs are ",
               list_names(outputs()));
}

Output Model::input(const std::string& name) const {
    return parameters_[parameter_index(name)]->output(0);
}

Output Model::output(const std::string& name) const {
    return results_[result_index(name)]->input(0);
}

std::vector<std::shared_ptr<Node>> Model::ordered_ops() const {
    // Iterative post-order DFS: deep graphs must not overflow the stack.
    std::vector<std::shared_ptr<Node>> order;
    std::unordered_map<const Node*, int> state;  // 1 = on stack, 2 = done
    std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack;
    auto visit_root = [&](const std::shared_ptr<Node>& root) {
        if (state[root.get()] == 2) return;
        stack.emplace_back(root, 0);
        state[root.get()] = 1;
        while (!stack.empty()) {
            auto& [node, next] = stack.back();
            if (next < node->input_count()) {
                auto producer = node->input(next++).node;
                int& st = state[producer.get()];
                KILN_CHECK(st != 1, "model '", name_, "' has a cycle through ",
                           producer->context());
                if (st == 0) {
                    st = 1;
                    stack.emplace_back(producer, 0);
                }
            } else {
                state[node.get()] = 2;
                order.push_back(node);
                stack.pop_back();
            }
        }
    };
    // Parameters first and in declared order, so unused ones still appear.
    for (const auto& p : parameters_) visit_root(p);
    for (const auto& r : results_) visit_root(r);
    for (const auto& s : sinks_) visit_root(s);
    return order;
}

void Model::validate() const {
    std::unordered_set<const Node*> params;
    for (const auto& p : parameters_) {
        KILN_CHECK(p && p->type() == "Parameter", "model '", name_,
                   "': parameter list holds a non-Parameter node");
        KILN_CHECK(params.insert(p.get()).second, "model '", name_, "': parameter ",
                   p->context(), " listed twice");
    }
    for (const auto& r : results_)
        KILN_CHECK(r && r->type() == "Result", "model '", name_, "': result list holds ",
                   r ? r->context() : "null");
    for (const auto& n : ordered_ops()) {
        if (n->type() == "Parameter")
            KILN_CHECK(params.count(n.get()), "model '", name_, "': ", n->context(),
                       " is used but not listed among the model parameters");
    }
}

void Model::infer_types() {
    for (const auto& n : ordered_ops()) n->infer();
}

namespace {

// Sets Parameter shapes and re-infers; restores them if the graph rejects the new ones.
void reshape_parameters(Model& model, const std::vector<std::pair<Node*, PartialShape>>& shapes) {
    std::vector<std::string> previous;
    for (const auto& [p, shape] : shapes) {
        previous.push_back(p->attrs().get_string("shape"));
        p->attrs().set("shape", partial_shape_to_ir(shape));
    }
    try {
        model.infer_types();
    } catch (const Error& e) {
        for (size_t i = 0; i < shapes.size(); ++i)
            shapes[i].first->attrs().set("shape", previous[i]);
        model.infer_types();
        std::string what;
        for (const auto& [p, shape] : shapes)
            what += (what.empty() ? "" : ", ") + p->output(0).any_name() + to_string(shape);
        KILN_THROW("model '", model.name(), "': cannot reshape to ", what, ": ", e.what());
    }
}

}  // namespace

void Model::reshape(const std::map<std::string, PartialShape>& shapes) {
    std::vector<std::pair<Node*, PartialShape>> targets;
    for (const auto& [name, shape] : shapes)
        targets.emplace_back(parameters_.at(parameter_index(name)).get(), shape);
    reshape_parameters(*this, targets);
}

void Model::reshape(const PartialShape& shape) {
    KILN_CHECK(parameters_.size() == 1, "model '", name_, "' has ", parameters_.size(),
               " inputs: reshape them by name");
    reshape_parameters(*this, {{parameters_[0].get(), shape}});
}

std::shared_ptr<Model> Model::clone() const {
    std::unordered_map<const Node*, std::shared_ptr<Node>> map;
    auto order = ordered_ops();
    for (const auto& n : order) {
        std::shared_ptr<Node> copy;
        if (n->type() == "Const") {
            copy = make_constant(n->value(), n->name());
        } else if (n->type() == "Parameter") {
            copy = make_parameter(n->output_type(0), n->output_shape(0), n->name());
        } else {
            OutputVector ins;
            for (const auto& in : n->inputs()) ins.push_back({map.at(in.node.get()), in.index});
            std::vector<std::shared_ptr<Model>> bodies;
            for (const auto& b : n->bodies()) bodies.push_back(b->clone());
            copy = make_node(n->type(), ins, n->attrs(), bodies, n->name());
        }
        for (size_t i = 0; i < n->output_count() && i < copy->output_count(); ++i)
            copy->output_info(i).names = n->output_info(i).names;
        copy->rt_info() = n->rt_info();
        map[n.get()] = copy;
    }
    auto pick = [&](const std::vector<std::shared_ptr<Node>>& v) {
        std::vector<std::shared_ptr<Node>> out;
        for (const auto& n : v) out.push_back(map.at(n.get()));
        return out;
    };
    auto m = std::make_shared<Model>(pick(results_), pick(parameters_), pick(sinks_), name_);
    m->rt_info_ = rt_info_;
    return m;
}

}  // namespace kiln
