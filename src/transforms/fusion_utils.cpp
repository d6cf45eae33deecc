#include "transforms/fusion_utils.hpp"

#include <cmath>

namespace kiln::fusion {

Uses::Uses(const Model& model) {
    for (const auto& node : model.ordered_ops())
        for (const auto& in : node->inputs()) uses_[in].push_back(node);
}

size_t Uses::count(const Output& o) const {
    auto it = uses_.find(o);
    return it == uses_.end() ? 0 : it->second.size();
}

std::shared_ptr<Node> Uses::single(const Output& o) const {
    auto it = uses_.find(o);
    return it != uses_.end() && it->second.size() == 1 ? it->second[0] : nullptr;
}

const Tensor* constant_of(const Output& o) {
    return o.node && o.node->type() == "Const" ? &o.node->value() : nullptr;
}

bool is_constant_near(const Output& o, double v, double tol) {
    const Tensor* t = constant_of(o);
    if (!t || !is_float(t->element_type()) || t->size() == 0) return false;
    for (int64_t i = 0; i < t->size(); ++i)
        if (std::fabs(t->value_as_double(i) - v) > tol * std::max(1.0, std::fabs(v))) return false;
    return true;
}

Output other_input(const Node& n, const Output& x) {
    if (n.input_count() != 2) return {};
    if (n.input(0) == x) return n.input(1);
    if (n.input(1) == x) return n.input(0);
    return {};
}

bool binary_with(const Node& n, const char* type, const Output& x, Output* other) {
    if (n.type() != type) return false;
    const Output o = other_input(n, x);
    if (!o.node) return false;
    if (other) *other = o;
    return true;
}

std::shared_ptr<Node> constant_bias_add(const Uses& uses, const Output& y, int64_t n,
                                        ElementType type, Tensor* bias) {
    auto add = uses.single(y);
    Output b;
    if (!add || !binary_with(*add, "Add", y, &b)) return nullptr;
    const Tensor* t = constant_of(b);
    if (!t || t->element_type() != type || t->size() != n || t->rank() < 1 ||
        t->shape().back() != n || !(add->output_shape(0) == y.partial_shape()))
        return nullptr;
    *bias = t->reshaped(Shape{n});
    return add;
}

}  // namespace kiln::fusion
