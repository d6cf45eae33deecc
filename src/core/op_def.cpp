#include "core/op_def.hpp"

namespace kiln {

void ShapeContext::expect_inputs(size_t lo, size_t hi) const {
    if (input_count() < lo || input_count() > hi) {
        if (lo == hi) fail("expects ", lo, " inputs, got ", input_count());
        fail("expects ", lo, " to ", hi, " inputs, got ", input_count());
    }
}

OpRegistry& OpRegistry::instance() {
    static OpRegistry registry;
    return registry;
}

void OpRegistry::add(OpDef def) {
    KILN_CHECK(def.infer, "op ", def.type, " registered without shape inference");
    KILN_CHECK(!defs_.count(def.type), "op ", def.type, " registered twice");
    std::string key = def.type;
    defs_.emplace(std::move(key), std::move(def));
}

const OpDef* OpRegistry::find(const std::string& type) const {
    auto it = defs_.find(type);
    return it == defs_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::types() const {
    std::vector<std::string> out;
    for (const auto& [k, v] : defs_) out.push_back(k);
    return out;
}

std::vector<Shape> runtime_output_shapes(const Node& node, const TensorVector& inputs) {
    std::vector<ElementType> types;
    std::vector<PartialShape> shapes;
    std::vector<const Tensor*> values;
    for (const auto& t : inputs) {
        types.push_back(t.element_type());
        shapes.emplace_back(t.shape());
        values.push_back(&t);
    }
    ShapeContext ctx(node, std::move(types), std::move(shapes), std::move(values));
    node.def().infer(ctx);
    std::vector<Shape> out;
    for (const auto& s : ctx.output_shapes()) {
        if (!s.is_static())
            throw Error(str_cat(node.context(), " cannot compute output shape from inputs"));
        out.push_back(s.to_shape());
    }
    return out;
}

void allocate_outputs(const Node& node, const TensorVector& inputs, TensorVector& outputs) {
    auto shapes = runtime_output_shapes(node, inputs);
    outputs.resize(shapes.size());
    for (size_t i = 0; i < shapes.size(); ++i) {
        ElementType t = node.output_type(i);
        KILN_CHECK(t != ElementType::dynamic, node.context(), " output ", i,
                   " has no element type");
        outputs[i] = Tensor(t, shapes[i]);
    }
}

}  // namespace kiln
