#include "transforms/fold_shape_of.hpp"

#include <map>
#include <optional>

#include "core/op_def.hpp"

namespace kiln {

namespace {

// The 1-D shape tensor `dims` in the element type of `shape_of`'s output.
Tensor shape_tensor(const Node& shape_of, const std::vector<int64_t>& dims) {
    const ElementType t = shape_of.output_type(0);
    Tensor out(t, Shape{static_cast<int64_t>(dims.size())});
    for (size_t i = 0; i < dims.size(); ++i) {
        if (t == ElementType::i32) {
            if (dims[i] > INT32_MAX) return {};  // left for run time, which reports it
            out.data<int32_t>()[i] = static_cast<int32_t>(dims[i]);
        } else {
            out.data<int64_t>()[i] = dims[i];
        }
    }
    return out;
}

// The static dimensions Gather(ShapeOf(x), indices, axis 0) picks, or nothing.
std::optional<std::vector<int64_t>> gathered_dims(const Node& gather) {
    if (gather.input_count() != 3 || gather.attrs().get_int("batch_dims", 0) != 0) return {};
    const Output& src = gather.input(0);
    if (src.node->type() != "ShapeOf") return {};
    const Tensor* idx = gather.input_constant(1);
    const Tensor* axis = gather.input_constant(2);
    if (!idx || !axis || idx->rank() > 1 || axis->size() != 1) return {};
    if (idx->element_type() != ElementType::i64 && idx->element_type() != ElementType::i32)
        return {};
    const int64_t ax = axis->element_type() == ElementType::i32 ? axis->data<int32_t>()[0]
                       : axis->element_type() == ElementType::i64 ? axis->data<int64_t>()[0]
                                                                   : -1;
    if (ax != 0 && ax != -1) return {};
    const PartialShape& shape = src.node->input_shape(0);
    if (!shape.rank_is_static()) return {};
    const int64_t rank = shape.rank();
    std::vector<int64_t> dims;
    for (int64_t i = 0; i < idx->size(); ++i) {
        int64_t k = idx->element_type() == ElementType::i32 ? idx->data<int32_t>()[i]
                                                             : idx->data<int64_t>()[i];
        if (k < 0) k += rank;
        if (k < 0 || k >= rank || shape[k].is_dynamic()) return {};
        dims.push_back(shape[k].get_length());
    }
    return dims;
}

}  // namespace

bool FoldShapeOf::run(Model& model) {
    std::map<Output, Output> folded;
    for (const auto& node : model.ordered_ops()) {
        for (size_t i = 0; i < node->input_count(); ++i) {
            auto it = folded.find(node->input(i));
            if (it != folded.end()) node->set_input(i, it->second);
        }
        Tensor value;
        if (node->type() == "ShapeOf" && node->input_count() == 1 &&
            node->input_shape(0).is_static()) {
            value = shape_tensor(*node, node->input_shape(0).to_shape());
        } else if (node->type() == "Gather") {
            if (auto dims = gathered_dims(*node)) {
                Tensor flat = shape_tensor(*node->input(0).node, *dims);
                // A scalar index picks a scalar: keep the Gather's own output shape.
                if (!flat.empty() && node->output_shape(0).is_static())
                    value = flat.reshaped(node->output_shape(0).to_shape());
            }
        }
        if (value.empty()) continue;
        auto c = make_constant(value, node->name());
        c->output_info(0).names = node->output_info(0).names;
        folded[node->output(0)] = c->output(0);
    }
    return !folded.empty();
}

}  // namespace kiln
