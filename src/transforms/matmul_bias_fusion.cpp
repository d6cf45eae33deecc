#include "transforms/matmul_bias_fusion.hpp"

#include "transforms/fusion_utils.hpp"

namespace kiln {
namespace {

bool fuse(Model& model, const fusion::Uses& uses, Node& mm) {
    if (mm.input_count() != 2 || mm.attrs().get_bool("transpose_a", false)) return false;
    const Tensor* w = fusion::constant_of(mm.input(1));
    const Output x = mm.input(0);
    if (!w || w->rank() != 2 || !is_float(w->element_type())) return false;
    if (x.element_type() != w->element_type() || !x.partial_shape().rank_is_static() ||
        x.partial_shape().size() < 2)
        return false;
    const bool tb = mm.attrs().get_bool("transpose_b", false);
    const int64_t n = tb ? w->shape()[0] : w->shape()[1];
    Tensor bias;
    auto add = fusion::constant_bias_add(uses, mm.output(0), n, w->element_type(), &bias);
    if (!add) return false;
    auto fc = make_node("FullyConnected", {x, mm.input(1), make_constant(bias)->output(0)},
                        {{"transpose_b", tb}}, {}, add->name());
    replace_output(model, add->output(0), fc->output(0));
    return true;
}

}  // namespace

bool MatMulBiasFusion::run(Model& model) {
    const fusion::Uses uses(model);
    bool changed = false;
    for (const auto& node : model.ordered_ops())
        if (node->type() == "MatMul") changed |= fuse(model, uses, *node);
    return changed;
}

}  // namespace kiln
