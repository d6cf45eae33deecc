#include "transforms/constant_folding.hpp"

#include <map>

#include "core/op_def.hpp"

namespace kiln {

namespace {

// The Convert that starts a low-bit weight's decompression subgraph (docs/GENAI.md, "Compressed
// weights") stays: folding it would store the weight as f32 again, and the CPU device fuses the
// subgraph into kernels that read the low-bit constant. Nothing after it folds either, since its
// output is no longer a constant. f16 weights (compress_to_fp16) still fold: no kernel reads f16.
bool is_lowbit_decompression(const Node& n) {
    if (n.type() != "Convert" || !n.rt_info().count("decompression") || n.input_count() != 1)
        return false;
    const ElementType t = n.input_type(0);
    return is_integral(t) && t != ElementType::boolean;
}

bool is_foldable(const Node& n, int64_t max_elements, bool fold_decompression) {
    if (!fold_decompression && is_lowbit_decompression(n)) return false;
    if (n.input_count() == 0 || !n.def().eval || !n.bodies().empty()) return false;
    if (n.type() == "Result" || n.type() == "ReadValue" || n.type() == "Assign") return false;
    for (const auto& in : n.inputs())
        if (in.node->type() != "Const") return false;
    for (size_t i = 0; i < n.output_count(); ++i) {
        const auto& s = n.output_shape(i);
        if (!s.is_static() || shape_size(s.to_shape()) > max_elements) return false;
    }
    return true;
}

}  // namespace

bool ConstantFolding::run(Model& model) {
    // One sweep in topological order: each node first sees its inputs rewired to earlier folds,
    // so whole constant chains collapse in a single pass.
    std::map<Output, Output> folded;
    for (const auto& node : model.ordered_ops()) {
        for (size_t i = 0; i < node->input_count(); ++i) {
            auto it = folded.find(node->input(i));
            if (it != folded.end()) node->set_input(i, it->second);
        }
        if (!is_foldable(*node, max_elements_, fold_decompression_)) continue;
        TensorVector ins, outs;
        for (const auto& in : node->inputs()) ins.push_back(in.node->value());
        ExecContext ctx;
        try {
            node->def().eval(*node, ins, outs, ctx);
        } catch (const Error&) {
            continue;  // the error belongs to run time, where it is reported with its inputs
        }
        if (outs.size() != node->output_count()) continue;
        for (size_t i = 0; i < outs.size(); ++i) {
            auto c = make_constant(outs[i], node->name());
            c->output_info(0).names = node->output_info(i).names;
            folded[node->output(i)] = c->output(0);
        }
    }
    return !folded.empty();
}

}  // namespace kiln
