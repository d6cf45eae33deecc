#include "transforms/compressed_weights_fusion.hpp"

#include "ops/nn/compressed_weights.hpp"
#include "transforms/fusion_utils.hpp"

namespace kiln {
namespace {

// The parts of a decompression subgraph the fused ops read.
struct Decompression {
    Output weight, scale, zero_point;  // zero_point.node is null when there is none
};

bool is_lowbit_const(const Output& o) {
    const Tensor* t = fusion::constant_of(o);
    return t && nn::is_lowbit_weight_type(t->element_type());
}

// Convert f32 of a low-bit constant: returns the constant.
bool match_convert(const Output& o, Output* lowbit) {
    const Node& n = *o.node;
    if (n.type() != "Convert" || n.input_count() != 1 || o.element_type() != ElementType::f32 ||
        !is_lowbit_const(n.input(0)))
        return false;
    *lowbit = n.input(0);
    return true;
}

// A zero point is a constant (f32 or integer, the compressor's Convert may have been folded) or
// the Convert of an integer constant.
bool match_zero_point(const Output& o, Output* zp) {
    if (match_convert(o, zp)) return true;
    const Tensor* t = fusion::constant_of(o);
    if (!t || !(t->element_type() == ElementType::f32 || is_lowbit_const(o))) return false;
    *zp = o;
    return true;
}

// [Reshape to [N, K]] <- Multiply(scale) <- [Subtract(zero point)] <- Convert <- low-bit Const,
// with shapes that fit (describe_lowbit_mismatch).
bool match_decompression(Output o, Decompression* d) {
    const PartialShape& out = o.partial_shape();
    if (!out.is_static() || out.size() != 2 || o.element_type() != ElementType::f32) return false;
    if (o.node->type() == "Reshape") o = o.node->input(0);
    const Node& mul = *o.node;
    if (mul.type() != "Multiply" || mul.input_count() != 2) return false;
    for (int side = 0; side < 2; ++side) {
        const Output scale = mul.input(side), rest = mul.input(1 - side);
        const Tensor* s = fusion::constant_of(scale);
        if (!s || s->element_type() != ElementType::f32) continue;
        Decompression m{{}, scale, {}};
        if (rest.node->type() == "Subtract" && rest.node->input_count() == 2) {
            if (!match_convert(rest.node->input(0), &m.weight) ||
                !match_zero_point(rest.node->input(1), &m.zero_point))
                continue;
        } else if (!match_convert(rest, &m.weight)) {
            continue;
        }
        const Tensor& w = m.weight.node->value();
        const Shape zs = m.zero_point.node ? m.zero_point.node->value().shape() : Shape{};
        if (!nn::describe_lowbit_mismatch(w.shape(), w.element_type(), s->shape(),
                                          m.zero_point.node ? &zs : nullptr)
                 .empty())
            continue;
        // The subgraph must describe the [N, K] matrix the consumer reads.
        const nn::LowBitLayout l = nn::lowbit_layout(w.shape(), s->shape());
        const Shape want{l.n, l.k};
        if (out.to_shape() != want || !rest.partial_shape().is_static() ||
            rest.partial_shape().to_shape() != w.shape())
            continue;
        *d = m;
        return true;
    }
    return false;
}

bool fuse_matmul(Model& model, const fusion::Uses& uses, Node& mm) {
    if (mm.input_count() != 2 || mm.attrs().get_bool("transpose_a", false) ||
        !mm.attrs().get_bool("transpose_b", false))
        return false;
    const Output x = mm.input(0);
    Decompression d;
    if (x.element_type() != ElementType::f32 || !match_decompression(mm.input(1), &d)) return false;
    const int64_t n = d.weight.node->value().shape()[0];
    Output result = mm.output(0);
    Tensor bias(ElementType::f32, Shape{0});
    std::string name = mm.name();
    if (auto add = fusion::constant_bias_add(uses, mm.output(0), n, ElementType::f32, &bias)) {
        result = add->output(0);
        name = add->name();
    }
    OutputVector ins{x, d.weight, make_constant(bias)->output(0), d.scale};
    if (d.zero_point.node) ins.push_back(d.zero_point);
    auto fc = make_node("FullyConnectedCompressed", ins, {}, {}, name);
    replace_output(model, result, fc->output(0));
    return true;
}

bool fuse_gather(Model& model, Node& g) {
    if (g.input_count() != 3 || g.attrs().get_int("batch_dims", 0) != 0) return false;
    const Tensor* axis = fusion::constant_of(g.input(2));
    if (!axis || axis->size() != 1 || axis->to_int_vector()[0] != 0) return false;
    const ElementType it = g.input_type(1);
    if (it != ElementType::i32 && it != ElementType::i64) return false;
    Decompression d;
    if (!match_decompression(g.input(0), &d)) return false;
    OutputVector ins{d.weight, g.input(1), d.scale};
    if (d.zero_point.node) ins.push_back(d.zero_point);
    auto gc = make_node("GatherCompressed", ins, {}, {}, g.name());
    replace_output(model, g.output(0), gc->output(0));
    return true;
}

}  // namespace

bool FuseCompressedWeights::run(Model& model) {
    const fusion::Uses uses(model);
    bool changed = false;
    for (const auto& node : model.ordered_ops()) {
        if (node->type() == "MatMul") changed |= fuse_matmul(model, uses, *node);
        if (node->type() == "Gather") changed |= fuse_gather(model, *node);
    }
    return changed;
}

}  // namespace kiln
