#include "transforms/common_subexpressions.hpp"

#include <cstring>
#include <map>
#include <set>
#include <unordered_map>

#include "core/op_def.hpp"

namespace kiln {

namespace {

bool mergeable(const Node& n) {
    static const std::set<std::string> kNever = {"Parameter", "Result",  "ReadValue",
                                                 "Assign",    "Dropout"};
    return !kNever.count(n.type()) && n.bodies().empty();
}

// A key that is equal for nodes computing the same value (given identical inputs).
std::string node_key(const Node& n) {
    std::string key = n.type() + '\0' + n.version() + '\0';
    for (const auto& in : n.inputs())
        key += std::to_string(reinterpret_cast<uintptr_t>(in.node.get())) + ':' +
               std::to_string(in.index) + ',';
    key += '\0';
    for (const auto& [name, value] : n.attrs().items()) key += name + '=' + attr_to_string(value) + ';';
    return key;
}

std::string constant_key(const Tensor& t) {
    std::string key = std::string(to_string(t.element_type())) + '|' + to_string(t.shape()) + '|';
    key.append(static_cast<const char*>(t.raw_data()), t.byte_size());
    return key;
}

}  // namespace

bool EliminateCommonSubexpressions::run(Model& model) {
    std::unordered_map<std::string, std::shared_ptr<Node>> seen;
    std::map<Output, Output> merged;
    for (const auto& node : model.ordered_ops()) {
        for (size_t i = 0; i < node->input_count(); ++i) {
            auto it = merged.find(node->input(i));
            if (it != merged.end()) node->set_input(i, it->second);
        }
        if (!mergeable(*node)) continue;
        std::string key;
        if (node->type() == "Const") {
            const Tensor& v = node->value();
            if (v.element_type() == ElementType::string ||
                static_cast<int64_t>(v.byte_size()) > max_constant_bytes_)
                continue;
            key = "Const|" + constant_key(v);
        } else {
            key = node_key(*node);
        }
        auto [it, inserted] = seen.emplace(key, node);
        if (inserted) continue;
        const auto& keep = it->second;
        for (size_t i = 0; i < node->output_count(); ++i) {
            // The survivor answers to the merged node's tensor names too.
            for (const auto& name : node->output_info(i).names)
                keep->output_info(i).names.insert(name);
            merged[node->output(i)] = keep->output(i);
        }
    }
    return !merged.empty();
}

}  // namespace kiln
