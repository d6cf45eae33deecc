#include "kiln/node.hpp"

#include "core/op_def.hpp"
#include "kiln/model.hpp"

namespace kiln {

ElementType Output::element_type() const { return node->output_info(index).type; }
const PartialShape& Output::partial_shape() const { return node->output_info(index).shape; }
const std::set<std::string>& Output::names() const { return node->output_info(index).names; }
std::string Output::any_name() const {
    const auto& n = names();
    if (!n.empty()) return *n.begin();
    return str_cat(node->name(), ":", index);
}

const std::string& Node::version() const { return def_->version; }

std::string Node::context() const { return str_cat("[", type_, " '", name_, "']"); }

const Tensor* Node::input_constant(size_t i) const {
    const Output& in = inputs_.at(i);
    if (in.node && in.node->type() == "Const") return &in.node->value();
    return nullptr;
}

OutputVector Node::outputs() {
    OutputVector v;
    for (size_t i = 0; i < outputs_.size(); ++i) v.push_back(output(i));
    return v;
}

void Node::infer() {
    std::vector<ElementType> types;
    std::vector<PartialShape> shapes;
    std::vector<const Tensor*> values;
    for (size_t i = 0; i < inputs_.size(); ++i) {
        KILN_CHECK(inputs_[i].node, context(), " input ", i, " is not connected");
        KILN_CHECK(inputs_[i].index < inputs_[i].node->output_count(), context(), " input ", i,
                   " refers to output ", inputs_[i].index, " of ", inputs_[i].node->context(),
                   " which has ", inputs_[i].node->output_count(), " outputs");
        types.push_back(input_type(i));
        shapes.push_back(input_shape(i));
        values.push_back(input_constant(i));
    }
    ShapeContext ctx(*this, std::move(types), std::move(shapes), std::move(values));
    def_->infer(ctx);
    const auto& ot = ctx.output_types();
    const auto& os = ctx.output_shapes();
    // Keep tensor names of outputs that survive re-inference.
    outputs_.resize(ot.size());
    for (size_t i = 0; i < ot.size(); ++i) {
        outputs_[i].type = ot[i];
        outputs_[i].shape = os[i];
    }
}

}  // namespace kiln
