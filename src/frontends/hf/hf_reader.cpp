// read_hf_model: config.json -> architecture and sizes; safetensors -> weights; the registered
// graph builder turns both into the model.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "frontends/hf/hf_config.hpp"
#include "frontends/hf/safetensors_weights.hpp"
#include "kiln/hf.hpp"

namespace kiln {

namespace fs = std::filesystem;

bool is_hf_model_folder(const std::string& path) {
    std::error_code ec;
    return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / "config.json", ec);
}

std::shared_ptr<Model> read_hf_model(const std::string& folder) {
    std::error_code ec;
    KILN_CHECK(fs::is_directory(folder, ec), "'", folder, "' is not a folder");
    const std::string config_path = (fs::path(folder) / "config.json").string();
    KILN_CHECK(fs::is_regular_file(config_path, ec), "folder '", folder,
               "' has no config.json (not a Hugging Face model folder)");

    const nlohmann::json config = hf::read_json_file(config_path);

    // The architecture first: an unsupported one fails before any weights are opened.
    const std::string model_type = hf::config_model_type(config, config_path);
    const hf::LlmGraphBuilder* builder = nullptr;
    try {
        builder = &hf::llm_graph_builder(model_type);
    } catch (const Error& e) {
        KILN_THROW("'", config_path, "': ", e.what());
    }
    const hf::LlmConfig cfg = hf::parse_llm_config(config, config_path);
    const hf::SafetensorsWeights weights(folder);

    std::shared_ptr<Model> model = (*builder)(cfg, weights);
    KILN_CHECK(model, "the ", model_type, " graph builder returned no model for '", folder, "'");
    model->rt_info()["model_type"] = model_type;
    return model;
}

const std::vector<std::string>& hf_side_files() {
    static const std::vector<std::string> files = {
        "config.json",           "generation_config.json",  "tokenizer.json",
        "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
    };
    return files;
}

}  // namespace kiln
