// One builder per architecture; model_type values that share a graph share a builder.
#include <algorithm>

#include "frontends/hf/builders/builders.hpp"
#include "frontends/hf/llm_config.hpp"
#include "kiln/error.hpp"

namespace kiln::hf {
namespace {

// Each architecture's file defines its builder; list it here, one line per model_type.
const std::map<std::string, LlmGraphBuilder>& registry() {
    static const std::map<std::string, LlmGraphBuilder> builders = {
        {"gpt2", build_gpt2},
        {"llama", build_llama},
        {"mistral", build_llama},
        {"qwen2", build_qwen2},
    };
    return builders;
}

}  // namespace

const LlmGraphBuilder& llm_graph_builder(const std::string& model_type) {
    const auto& builders = registry();
    auto it = builders.find(model_type);
    if (it == builders.end()) {
        std::string known;
        for (const auto& [name, builder] : builders) known += (known.empty() ? "" : ", ") + name;
        KILN_THROW("unsupported model_type '", model_type,
                   "' in config.json; Kiln builds: ", known.empty() ? "(none)" : known);
    }
    return it->second;
}

std::vector<std::string> supported_model_types() {
    std::vector<std::string> names;
    for (const auto& [name, builder] : registry()) names.push_back(name);
    return names;
}

}  // namespace kiln::hf
