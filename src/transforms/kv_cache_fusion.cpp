#include "transforms/kv_cache_fusion.hpp"

#include <optional>

#include "transforms/fusion_utils.hpp"

namespace kiln {
namespace {

using fusion::Uses;

// One side (keys or values) of the cache update feeding attention input `port`.
struct CacheUpdate {
    Output init, fresh;
    std::string variable_id;
    std::shared_ptr<Node> assign;
};

std::optional<CacheUpdate> match_update(const Model& model, const Uses& uses, const Output& all) {
    const Node& concat = *all.node;
    if (concat.type() != "Concat" || concat.input_count() != 2 || uses.count(all) != 2)
        return std::nullopt;
    const PartialShape& shape = all.partial_shape();
    if (!shape.rank_is_static() || shape.size() != 4 || all.element_type() != ElementType::f32)
        return std::nullopt;
    int64_t axis = concat.attrs().get_int("axis", 0);
    if (axis < 0) axis += 4;
    if (axis != 2) return std::nullopt;
    const Output past = concat.input(0);
    if (past.node->type() != "ReadValue" || past.node->input_count() != 1 ||
        uses.count(past) != 1)
        return std::nullopt;
    CacheUpdate u{past.node->input(0), concat.input(1),
                  past.node->attrs().get_string("variable_id"), nullptr};
    for (const auto& sink : model.sinks())
        if (sink->type() == "Assign" && sink->input(0) == all &&
            sink->attrs().get_string("variable_id") == u.variable_id)
            u.assign = sink;
    if (!u.assign) return std::nullopt;
    return u;
}

bool fuse(Model& model, const Uses& uses, Node& sdpa) {
    if (sdpa.input_count() != 5 || sdpa.attrs().get_bool("causal", false)) return false;
    if (sdpa.input_type(0) != ElementType::f32 || sdpa.input_type(3) != ElementType::f32)
        return false;
    const PartialShape& q = sdpa.input_shape(0);
    if (!q.rank_is_static() || q.size() != 4) return false;
    const auto keys = match_update(model, uses, sdpa.input(1));
    const auto values = match_update(model, uses, sdpa.input(2));
    if (!keys || !values || keys->variable_id == values->variable_id) return false;
    auto fused = make_node("ScaledDotProductAttentionWithKVCache",
                           {sdpa.input(0), keys->fresh, values->fresh, keys->init, values->init,
                            sdpa.input(3), sdpa.input(4)},
                           {{"key_variable_id", keys->variable_id},
                            {"value_variable_id", values->variable_id}},
                           {}, sdpa.name());
    if (!fused->output_shape(0).compatible(sdpa.output_shape(0))) return false;
    replace_output(model, sdpa.output(0), fused->output(0));
    model.remove_sink(keys->assign);
    model.remove_sink(values->assign);
    return true;
}

}  // namespace

bool KvCacheFusion::run(Model& model) {
    const Uses uses(model);
    bool changed = false;
    for (const auto& node : model.ordered_ops())
        if (node->type() == "ScaledDotProductAttention") changed |= fuse(model, uses, *node);
    return changed;
}

}  // namespace kiln
