#include "genai/llm/logits_to_keep.hpp"

#include <limits>

namespace kiln::llm {

std::string logits_output_name(const Model& model) {
    const OutputVector outputs = model.outputs();
    for (const Output& out : outputs)
        if (out.names().count("logits")) return "logits";
    return outputs.empty() ? "" : outputs.front().any_name();
}

bool has_logits_to_keep(const Model& model) {
    for (const Output& in : model.inputs())
        if (in.names().count(kLogitsToKeep)) return true;
    return false;
}

std::shared_ptr<Model> with_logits_to_keep(const std::shared_ptr<Model>& model,
                                           const std::string& logits_name) {
    if (has_logits_to_keep(*model)) return model;
    std::shared_ptr<Node> result;
    for (const auto& r : model->results())
        if (r->input(0).any_name() == logits_name || r->input(0).names().count(logits_name))
            result = r;
    if (!result) return model;
    const std::shared_ptr<Node> head = result->input(0).node;
    if (head->type() != "MatMul" || head->attrs().get_bool("transpose_a", false) ||
        !head->input_shape(0).rank_is_static() || head->input_shape(0).rank() != 3)
        return model;

    auto keep = make_parameter(ElementType::i64, PartialShape({1}), kLogitsToKeep);
    keep->output_info(0).names.insert(kLogitsToKeep);
    const auto i64 = [](int64_t v) { return make_constant(Tensor::from_vector<int64_t>({v}, {1}))->output(0); };
    // Start -N (0 when N is 0: every position), to the end, along the sequence axis.
    const Output start = make_op("Negative", {keep->output(0)});
    const Output states = make_op("Slice", {head->input(0), start,
                                            i64(std::numeric_limits<int64_t>::max()), i64(1), i64(1)});
    head->set_input(0, states);
    head->infer();
    std::vector<std::shared_ptr<Node>> parameters = model->parameters();
    parameters.push_back(keep);
    auto sliced = std::make_shared<Model>(model->results(), std::move(parameters), model->sinks(),
                                          model->name());
    sliced->rt_info() = model->rt_info();
    sliced->infer_types();
    return sliced;
}

}  // namespace kiln::llm
