#include "frontends/onnx/node_context.hpp"

#include "frontends/onnx/graph_context.hpp"
#include "frontends/onnx/tensor_proto.hpp"
#include "ops/op_list.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::onnx_fe {

using AP = onnx::AttributeProto;

std::string NodeContext::name() const {
    if (!proto_.name().empty()) return proto_.name();
    return proto_.output_size() ? proto_.output(0) : std::string();
}

std::string NodeContext::context() const {
    std::string d = proto_.domain().empty() ? "" : proto_.domain() + ".";
    return str_cat("[ONNX ", d, proto_.op_type(), " '", name(), "' (opset ", opset_, ")]");
}

bool NodeContext::has_input(size_t i) const {
    return i < input_count() && !proto_.input(static_cast<int>(i)).empty();
}

Output NodeContext::input(size_t i) const {
    check(has_input(i), "input ", i, " is required but missing");
    return graph_.lookup(proto_.input(static_cast<int>(i)));
}

OutputVector NodeContext::inputs() const {
    OutputVector v;
    for (size_t i = 0; i < input_count(); ++i)
        if (has_input(i)) v.push_back(input(i));
    return v;
}

const Tensor* NodeContext::input_constant(size_t i) const {
    if (!has_input(i)) return nullptr;
    Output o = input(i);
    return o.node->type() == "Const" ? &o.node->value() : nullptr;
}

bool NodeContext::has_output(size_t i) const {
    return i < output_count() && !proto_.output(static_cast<int>(i)).empty();
}

const AP* NodeContext::find_attr(const std::string& name) const {
    for (const auto& a : proto_.attribute())
        if (a.name() == name) return &a;
    return nullptr;
}

const AP& NodeContext::get_attr(const std::string& name) const {
    const AP* a = find_attr(name);
    check(a != nullptr, "required attribute '", name, "' is missing");
    return *a;
}

bool NodeContext::has_attr(const std::string& name) const { return find_attr(name) != nullptr; }

int64_t NodeContext::attr_int(const std::string& name) const {
    const AP& a = get_attr(name);
    check(a.type() == AP::INT, "attribute '", name, "' is not an INT");
    return a.i();
}
int64_t NodeContext::attr_int(const std::string& name, int64_t dflt) const {
    return has_attr(name) ? attr_int(name) : dflt;
}

float NodeContext::attr_float(const std::string& name) const {
    const AP& a = get_attr(name);
    if (a.type() == AP::INT) return static_cast<float>(a.i());
    check(a.type() == AP::FLOAT, "attribute '", name, "' is not a FLOAT");
    return a.f();
}
float NodeContext::attr_float(const std::string& name, float dflt) const {
    return has_attr(name) ? attr_float(name) : dflt;
}

std::string NodeContext::attr_string(const std::string& name) const {
    const AP& a = get_attr(name);
    check(a.type() == AP::STRING, "attribute '", name, "' is not a STRING");
    return a.s();
}
std::string NodeContext::attr_string(const std::string& name, const std::string& dflt) const {
    return has_attr(name) ? attr_string(name) : dflt;
}

std::vector<int64_t> NodeContext::attr_ints(const std::string& name) const {
    const AP& a = get_attr(name);
    check(a.type() == AP::INTS || a.ints_size() > 0 || a.type() == AP::UNDEFINED,
          "attribute '", name, "' is not INTS");
    return {a.ints().begin(), a.ints().end()};
}
std::vector<int64_t> NodeContext::attr_ints(const std::string& name,
                                            std::vector<int64_t> dflt) const {
    return has_attr(name) ? attr_ints(name) : dflt;
}

std::vector<float> NodeContext::attr_floats(const std::string& name) const {
    const AP& a = get_attr(name);
    check(a.type() == AP::FLOATS || a.floats_size() > 0 || a.type() == AP::UNDEFINED,
          "attribute '", name, "' is not FLOATS");
    return {a.floats().begin(), a.floats().end()};
}
std::vector<float> NodeContext::attr_floats(const std::string& name, std::vector<float> dflt) const {
    return has_attr(name) ? attr_floats(name) : dflt;
}

std::vector<std::string> NodeContext::attr_strings(const std::string& name) const {
    const AP& a = get_attr(name);
    return {a.strings().begin(), a.strings().end()};
}

Tensor NodeContext::attr_tensor(const std::string& name) const {
    const AP& a = get_attr(name);
    check(a.type() == AP::TENSOR || a.has_t(), "attribute '", name, "' is not a TENSOR");
    try {
        return tensor_from_proto(a.t(), graph_.info().base_dir);
    } catch (const Error& e) {
        fail("attribute '", name, "': ", e.what());
    }
}

Subgraph NodeContext::attr_graph(const std::string& name) const {
    const AP& a = get_attr(name);
    check(a.type() == AP::GRAPH || a.has_g(), "attribute '", name, "' is not a GRAPH");
    GraphContext sub(graph_.info(), &graph_);
    return sub.translate(a.g(), this->name() + "/" + name);
}

Output NodeContext::constant(Tensor t) const { return make_constant(std::move(t))->output(0); }

namespace {

// Folds a node whose inputs are all constants into a Const, so later translators (and shape
// inference) see values such as Reshape targets computed by Shape/Gather/Concat chains.
bool foldable(const Node& n) {
    if (!n.def().eval || n.input_count() == 0) return false;
    if (n.type() == "ReadValue" || n.type() == "Assign") return false;
    for (const auto& in : n.inputs())
        if (in.node->type() != "Const") return false;
    for (size_t i = 0; i < n.output_count(); ++i) {
        if (!n.output_shape(i).is_static() || n.output_type(i) == ElementType::dynamic) return false;
        if (shape_size(n.output_shape(i).to_shape()) > (1 << 16)) return false;
    }
    return true;
}

}  // namespace

OutputVector NodeContext::make(const std::string& type, OutputVector inputs, Attributes attrs,
                               std::vector<std::shared_ptr<Model>> bodies) const {
    std::shared_ptr<Node> node;
    try {
        node = make_node(type, std::move(inputs), std::move(attrs), std::move(bodies), name());
    } catch (const Error& e) {
        fail(e.what());
    }
    OutputVector outs = node->outputs();
    if (foldable(*node)) {
        TensorVector ins, results;
        for (const auto& in : node->inputs()) ins.push_back(in.node->value());
        ExecContext ctx;
        try {
            node->def().eval(*node, ins, results, ctx);
        } catch (const Error&) {
            return outs;  // leave it to run time, where the error surfaces with its context
        }
        for (size_t i = 0; i < outs.size() && i < results.size(); ++i)
            outs[i] = make_constant(results[i], name())->output(0);
    }
    return outs;
}

}  // namespace kiln::onnx_fe
