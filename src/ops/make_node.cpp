#include "core/op_def.hpp"
#include "kiln/model.hpp"
#include "ops/op_list.hpp"

namespace kiln {

std::shared_ptr<Node> make_node(const std::string& type, OutputVector inputs, Attributes attrs,
                                std::vector<std::shared_ptr<Model>> bodies, std::string name) {
    const OpDef* def = op_registry().find(type);
    KILN_CHECK(def, "[", type, " '", name, "'] unknown operation type '", type, "'");
    auto node = std::make_shared<Node>();
    node->type_ = type;
    node->name_ = std::move(name);
    node->inputs_ = std::move(inputs);
    node->attrs_ = std::move(attrs);
    node->bodies_ = std::move(bodies);
    node->def_ = def;
    node->infer();
    return node;
}

std::shared_ptr<Node> make_constant(Tensor value, std::string name) {
    KILN_CHECK(!value.empty(), "[Const '", name, "'] empty value");
    auto node = std::make_shared<Node>();
    node->type_ = "Const";
    node->name_ = std::move(name);
    node->attrs_.set("element_type", std::string(to_string(value.element_type())));
    node->attrs_.set("shape", value.shape());
    node->value_ = std::move(value);
    node->def_ = op_registry().find("Const");
    node->infer();
    return node;
}

std::shared_ptr<Node> make_parameter(ElementType type, PartialShape shape, std::string name) {
    auto node = std::make_shared<Node>();
    node->type_ = "Parameter";
    node->name_ = std::move(name);
    node->attrs_.set("element_type", std::string(to_string(type)));
    node->attrs_.set("shape", partial_shape_to_ir(shape));
    node->def_ = op_registry().find("Parameter");
    node->infer();
    return node;
}

Output make_op(const std::string& type, OutputVector inputs, Attributes attrs) {
    auto n = make_node(type, std::move(inputs), std::move(attrs));
    KILN_CHECK(n->output_count() >= 1, n->context(), " has no outputs");
    return n->output(0);
}

}  // namespace kiln
