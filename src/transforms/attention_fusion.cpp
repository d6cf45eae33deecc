#include "transforms/attention_fusion.hpp"

#include <optional>

#include "transforms/fusion_utils.hpp"

namespace kiln {
namespace {

using fusion::Uses;

struct Scores {
    std::shared_ptr<Node> qk;  // MatMul(Q, K^T)
    double scale = 1.0;
};

// `v` as [scale *] MatMul(...) with single-use intermediates.
std::optional<Scores> match_scores(const Uses& uses, const Output& v) {
    Scores s;
    Output cur = v;
    const Node& n = *cur.node;
    if ((n.type() == "Multiply" || n.type() == "Divide") && uses.count(cur) == 1) {
        const int c = n.type() == "Divide" ? 1 : (fusion::constant_of(n.input(1)) ? 1 : 0);
        const Tensor* t = fusion::constant_of(n.input(c));
        if (!t || t->size() != 1 || !is_float(t->element_type())) return std::nullopt;
        const double value = t->value_as_double(0);
        if (n.type() == "Divide" && value == 0.0) return std::nullopt;
        s.scale = n.type() == "Divide" ? 1.0 / value : value;
        cur = n.input(1 - c);
    }
    if (cur.node->type() != "MatMul" || uses.count(cur) != 1) return std::nullopt;
    if (cur.node->attrs().get_bool("transpose_a", false)) return std::nullopt;
    s.qk = cur.node;
    return s;
}

// K as [..., S, E] from the MatMul's second operand (K^T unless transpose_b).
Output key_of(const Uses& uses, const Node& qk) {
    const Output kt = qk.input(1);
    if (qk.attrs().get_bool("transpose_b", false)) return kt;
    const PartialShape& ks = kt.partial_shape();
    if (!ks.rank_is_static() || ks.size() < 2) return {};
    const int64_t rank = static_cast<int64_t>(ks.size());
    std::vector<int64_t> perm;
    Output src = kt;
    const Tensor* p =
        kt.node->type() == "Transpose" ? fusion::constant_of(kt.node->input(1)) : nullptr;
    if (p && uses.count(kt) == 1 && p->size() == rank) {
        perm = p->to_int_vector();
        for (int64_t& a : perm) a = a < 0 ? a + rank : a;
        src = kt.node->input(0);
    } else {
        for (int64_t i = 0; i < rank; ++i) perm.push_back(i);
    }
    std::swap(perm[rank - 1], perm[rank - 2]);
    return make_op("Transpose", {src, make_constant(Tensor::from_vector(perm))->output(0)});
}

bool fuse(Model& model, const Uses& uses, Node& sm) {
    const PartialShape& ss = sm.output_shape(0);
    if (sm.output_type(0) != ElementType::f32 || !ss.rank_is_static() || ss.size() < 2)
        return false;
    int64_t axis = sm.attrs().get_int("axis", 1);
    if (axis < 0) axis += static_cast<int64_t>(ss.size());
    if (axis != static_cast<int64_t>(ss.size()) - 1) return false;
    auto pv = uses.single(sm.output(0));
    if (!pv || pv->type() != "MatMul" || !(pv->input(0) == sm.output(0)) ||
        pv->attrs().get_bool("transpose_a", false) || pv->attrs().get_bool("transpose_b", false))
        return false;

    std::optional<Scores> scores;
    Output mask;
    const Output x = sm.input(0);
    if (x.node->type() == "Add" && uses.count(x) == 1) {
        for (int i = 0; i < 2 && !scores; ++i) {
            scores = match_scores(uses, x.node->input(i));
            if (scores) mask = x.node->input(1 - i);
        }
        // Shapes may be only partly known here; a mask that would broadcast the scores to a
        // larger shape is refused at run time by the fused op.
        if (scores && !x.partial_shape().compatible(scores->qk->output_shape(0))) return false;
    }
    if (!scores) scores = match_scores(uses, x);
    if (!scores) return false;
    const Output q = scores->qk->input(0), v = pv->input(1);
    if (q.element_type() != ElementType::f32 || v.element_type() != ElementType::f32) return false;
    if (mask.node && mask.element_type() != ElementType::f32) return false;
    const Output k = key_of(uses, *scores->qk);
    if (!k.node) return false;
    if (!mask.node) mask = make_constant(Tensor::scalar(0.f))->output(0);
    auto sdpa =
        make_node("ScaledDotProductAttention",
                  {q, k, v, mask,
                   make_constant(Tensor::scalar(static_cast<float>(scores->scale)))->output(0)},
                  {{"causal", false}}, {}, pv->name());
    if (!sdpa->output_shape(0).compatible(pv->output_shape(0))) return false;
    replace_output(model, pv->output(0), sdpa->output(0));
    return true;
}

}  // namespace

bool AttentionFusion::run(Model& model) {
    const Uses uses(model);
    bool changed = false;
    for (const auto& node : model.ordered_ops())
        if (node->type() == "Softmax") changed |= fuse(model, uses, *node);
    return changed;
}

}  // namespace kiln
