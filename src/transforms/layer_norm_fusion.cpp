#include "transforms/layer_norm_fusion.hpp"

#include <algorithm>
#include <optional>

#include "transforms/fusion_utils.hpp"

namespace kiln {
namespace {

using fusion::Uses;

// The first normalized axis when `axes` (a constant) lists exactly the trailing axes of a rank
// `rank` tensor, else nothing.
std::optional<int64_t> trailing_axis(const Output& axes, int64_t rank) {
    const Tensor* t = fusion::constant_of(axes);
    if (!t || t->size() == 0 || !is_integral(t->element_type())) return std::nullopt;
    std::vector<int64_t> v = t->to_int_vector();
    for (int64_t& a : v) a = a < 0 ? a + rank : a;
    std::sort(v.begin(), v.end());
    const int64_t first = rank - static_cast<int64_t>(v.size());
    for (size_t i = 0; i < v.size(); ++i)
        if (v[i] != first + static_cast<int64_t>(i)) return std::nullopt;
    return first >= 0 ? std::optional<int64_t>(first) : std::nullopt;
}

// A constant scale or bias that broadcasts to the normalized axes without changing the shape of
// the normalized value `y` (so the fused node keeps the output shape).
bool fits_normalized(const Output& c, const Node& consumer, const Output& y, int64_t axis) {
    const Tensor* t = fusion::constant_of(c);
    if (!t || t->element_type() != y.element_type()) return false;
    const PartialShape& ys = y.partial_shape();
    if (static_cast<int64_t>(t->rank()) > static_cast<int64_t>(ys.size()) - axis) return false;
    if (!(consumer.output_shape(0) == ys)) return false;
    const int64_t off = static_cast<int64_t>(ys.size()) - t->rank();
    for (int64_t i = 0; i < t->rank(); ++i)
        if (t->shape()[i] != 1 &&
            !(ys[off + i].is_static() && ys[off + i].get_length() == t->shape()[i]))
            return false;
    return true;
}

// Appends [* scale] [+ bias] after `y`; returns the final output and fills scale / bias.
Output take_affine(const Uses& uses, Output y, int64_t axis, Output* scale, Output* bias) {
    Output other;
    if (auto m = uses.single(y); m && fusion::binary_with(*m, "Multiply", y, &other) &&
                                 fits_normalized(other, *m, y, axis)) {
        *scale = other;
        y = m->output(0);
    }
    if (auto a = uses.single(y);
        a && fusion::binary_with(*a, "Add", y, &other) && fits_normalized(other, *a, y, axis)) {
        *bias = other;
        y = a->output(0);
    }
    return y;
}

Output make_layer_norm(const Output& x, Output scale, const Output& bias, int64_t axis, double eps,
                       bool rms, const std::string& name) {
    if (!scale.node) {
        Tensor one(x.element_type(), Shape{});
        one.data<float>()[0] = 1.f;
        scale = make_constant(one)->output(0);
    }
    OutputVector ins{x, scale};
    if (bias.node) ins.push_back(bias);
    auto n =
        make_node("LayerNorm", ins, {{"axis", axis}, {"epsilon", eps}, {"rms", rms}}, {}, name);
    return n->output(0);
}

bool fuse_mvn(Model& model, const Uses& uses, Node& mvn) {
    const Output x = mvn.input(0);
    if (x.element_type() != ElementType::f32 || !x.partial_shape().rank_is_static()) return false;
    if (!mvn.attrs().get_bool("normalize_variance", true)) return false;
    const std::string mode = mvn.attrs().get_string("eps_mode", "inside_sqrt");
    if (mode != "inside_sqrt" && mode != "INSIDE_SQRT") return false;
    const auto axis = trailing_axis(mvn.input(1), static_cast<int64_t>(x.partial_shape().size()));
    if (!axis) return false;
    Output scale, bias;
    const Output end = take_affine(uses, mvn.output(0), *axis, &scale, &bias);
    const Output ln = make_layer_norm(x, scale, bias, *axis, mvn.attrs().get_float("eps", 1e-9),
                                      false, end.node->name());
    replace_output(model, end, ln);
    return true;
}

// x^2 as Power(x, 2) or Multiply(x, x): returns x.
Output squared_input(const Node& n) {
    if (n.type() == "Power" && fusion::is_constant_near(n.input(1), 2.0, 0)) return n.input(0);
    if (n.type() == "Multiply" && n.input(0) == n.input(1)) return n.input(0);
    return {};
}

bool fuse_rms(Model& model, const Uses& uses, Node& mean) {
    if (!mean.attrs().get_bool("keep_dims", false)) return false;
    const Output sq = mean.input(0);
    if (uses.count(sq) != 1) return false;
    const Output x = squared_input(*sq.node);
    if (!x.node || x.element_type() != ElementType::f32 || !x.partial_shape().rank_is_static())
        return false;
    const auto axis = trailing_axis(mean.input(1), static_cast<int64_t>(x.partial_shape().size()));
    if (!axis) return false;
    Output eps_in;
    auto add = uses.single(mean.output(0));
    if (!add || !fusion::binary_with(*add, "Add", mean.output(0), &eps_in)) return false;
    const Tensor* eps = fusion::constant_of(eps_in);
    if (!eps || eps->size() != 1 || !is_float(eps->element_type())) return false;
    auto sqrt = uses.single(add->output(0));
    if (!sqrt || sqrt->type() != "Sqrt") return false;
    auto next = uses.single(sqrt->output(0));
    if (!next || next->type() != "Divide") return false;
    Output y;
    if (next->input(0) == x && next->input(1) == sqrt->output(0)) {
        y = next->output(0);  // x / sqrt(...)
    } else if (fusion::is_constant_near(next->input(0), 1.0, 0) &&
               next->input(1) == sqrt->output(0)) {
        auto mul = uses.single(next->output(0));
        if (!mul || !fusion::binary_with(*mul, "Multiply", next->output(0), nullptr) ||
            !(fusion::other_input(*mul, next->output(0)) == x))
            return false;
        y = mul->output(0);  // x * (1 / sqrt(...))
    } else {
        return false;
    }
    if (!(y.partial_shape() == x.partial_shape())) return false;
    Output scale, bias;
    const Output end = take_affine(uses, y, *axis, &scale, &bias);
    const Output ln =
        make_layer_norm(x, scale, bias, *axis, eps->value_as_double(0), true, end.node->name());
    replace_output(model, end, ln);
    return true;
}

}  // namespace

bool LayerNormFusion::run(Model& model) {
    const Uses uses(model);
    bool changed = false;
    for (const auto& node : model.ordered_ops()) {
        if (node->type() == "MVN")
            changed |= fuse_mvn(model, uses, *node);
        else if (node->type() == "ReduceMean" && node->input_count() == 2)
            changed |= fuse_rms(model, uses, *node);
    }
    return changed;
}

}  // namespace kiln
