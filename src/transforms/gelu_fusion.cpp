#include "transforms/gelu_fusion.hpp"

#include <cmath>

#include "transforms/fusion_utils.hpp"

namespace kiln {
namespace {

using fusion::binary_with;
using fusion::is_constant_near;
using fusion::Uses;

constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kTanhCubic = 0.044715;

bool single_use_binary(const Uses& uses, const Output& v, const char* type, Output* other,
                       std::shared_ptr<Node>* node) {
    auto n = uses.single(v);
    if (!n || !binary_with(*n, type, v, other)) return false;
    *node = n;
    return true;
}

// x * c (either order) or, for division, x / (1 / c): returns x.
Output scaled_input(const Node& n, double c) {
    if (n.type() == "Multiply") {
        if (is_constant_near(n.input(1), c)) return n.input(0);
        if (is_constant_near(n.input(0), c)) return n.input(1);
    }
    if (n.type() == "Divide" && is_constant_near(n.input(1), 1.0 / c)) return n.input(0);
    return {};
}

// From t = erf(...) or tanh(...) of x: matches 0.5 * x * (1 + t) and returns its output.
Output match_tail(const Uses& uses, const Output& t, const Output& x) {
    Output one, o;
    std::shared_ptr<Node> add, m1;
    if (!single_use_binary(uses, t, "Add", &one, &add) || !is_constant_near(one, 1.0)) return {};
    const Output a = add->output(0);
    if (!single_use_binary(uses, a, "Multiply", &o, &m1)) return {};
    if (o == x) {  // (x * a) * 0.5
        Output half;
        std::shared_ptr<Node> m2;
        if (single_use_binary(uses, m1->output(0), "Multiply", &half, &m2) &&
            is_constant_near(half, 0.5))
            return m2->output(0);
        if (single_use_binary(uses, m1->output(0), "Divide", &half, &m2) &&
            m2->input(0) == m1->output(0) && is_constant_near(m2->input(1), 2.0))
            return m2->output(0);
        return {};
    }
    if (is_constant_near(o, 0.5)) {  // x * (a * 0.5)
        Output other;
        std::shared_ptr<Node> m2;
        if (single_use_binary(uses, m1->output(0), "Multiply", &other, &m2) && other == x)
            return m2->output(0);
        return {};
    }
    // (x * 0.5) * a
    if (uses.count(o) == 1 && scaled_input(*o.node, 0.5) == x) return m1->output(0);
    return {};
}

// x^3 as Power(x, 3), x * (x * x) or (x * x) * x: returns x.
Output cubed_input(const Uses& uses, const Output& v) {
    const Node& n = *v.node;
    if (n.type() == "Power" && is_constant_near(n.input(1), 3.0, 0)) return n.input(0);
    if (n.type() != "Multiply") return {};
    for (int i = 0; i < 2; ++i) {
        const Output sq = n.input(i), x = n.input(1 - i);
        if (sq.node->type() == "Multiply" && sq.node->input(0) == x && sq.node->input(1) == x &&
            uses.count(sq) == 1)
            return x;
    }
    return {};
}

bool fuse_erf(Model& model, const Uses& uses, Node& erf) {
    const Output u = erf.input(0);
    if (uses.count(u) != 1) return false;
    const Output x = scaled_input(*u.node, 1.0 / kSqrt2);
    if (!x.node || x.element_type() != ElementType::f32) return false;
    const Output end = match_tail(uses, erf.output(0), x);
    if (!end.node || !(end.partial_shape() == x.partial_shape())) return false;
    auto gelu =
        make_node("Gelu", {x}, {{"approximation_mode", std::string("ERF")}}, {}, end.node->name());
    replace_output(model, end, gelu->output(0));
    return true;
}

bool fuse_tanh(Model& model, const Uses& uses, Node& tanh) {
    // tanh(c1 * (x + c2 * x^3))
    const Output t = tanh.input(0);
    if (uses.count(t) != 1) return false;
    const Output s = scaled_input(*t.node, kSqrt2OverPi);
    if (!s.node || s.node->type() != "Add" || uses.count(s) != 1) return false;
    for (int i = 0; i < 2; ++i) {
        const Output x = s.node->input(i), c = s.node->input(1 - i);
        if (x.element_type() != ElementType::f32 || uses.count(c) != 1) continue;
        const Output cube = scaled_input(*c.node, kTanhCubic);
        if (!cube.node || uses.count(cube) != 1 || !(cubed_input(uses, cube) == x)) continue;
        const Output end = match_tail(uses, tanh.output(0), x);
        if (!end.node || !(end.partial_shape() == x.partial_shape())) return false;
        auto gelu = make_node("Gelu", {x}, {{"approximation_mode", std::string("TANH")}}, {},
                              end.node->name());
        replace_output(model, end, gelu->output(0));
        return true;
    }
    return false;
}

}  // namespace

bool GeluFusion::run(Model& model) {
    const Uses uses(model);
    bool changed = false;
    for (const auto& node : model.ordered_ops()) {
        if (node->type() == "Erf")
            changed |= fuse_erf(model, uses, *node);
        else if (node->type() == "Tanh")
            changed |= fuse_tanh(model, uses, *node);
    }
    return changed;
}

}  // namespace kiln
