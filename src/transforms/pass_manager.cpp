#include "transforms/pass_manager.hpp"

namespace kiln {

bool PassManager::run(Model& model) {
    bool changed = false;
    for (auto& p : passes_) {
        try {
            changed |= p->run(model);
        } catch (const Error& e) {
            throw Error(str_cat("pass ", p->name(), ": ", e.what()));
        }
    }
    return changed;
}

void replace_output(Model& model, const Output& from, const Output& to) {
    for (const auto& node : model.ordered_ops()) {
        for (size_t i = 0; i < node->input_count(); ++i)
            if (node->input(i) == from) node->set_input(i, to);
    }
    auto& names = from.node->output_info(from.index).names;
    to.node->output_info(to.index).names.insert(names.begin(), names.end());
    names.clear();
}

}  // namespace kiln
