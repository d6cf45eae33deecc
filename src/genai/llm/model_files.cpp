#include "genai/llm/model_files.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "genai/llm/json_fields.hpp"
#include "kiln/error.hpp"
#include "kiln/ir.hpp"

namespace kiln::llm {

namespace fs = std::filesystem;

ModelFiles locate_model_files(const std::string& path) {
    KILN_CHECK(fs::exists(path), "model '", path, "' does not exist");
    if (!fs::is_directory(path)) {
        const fs::path parent = fs::path(path).parent_path();
        return {path, parent.empty() ? std::string(".") : parent.string()};
    }
    if (const std::string ir = ir_in_folder(path); !ir.empty()) return {ir, path};
    KILN_CHECK(fs::exists(fs::path(path) / "config.json"), "folder '", path,
               "' holds no model.xml, openvino_model.xml or config.json (Hugging Face)");
    return {path, path};
}

ModelConfigInfo read_model_config_info(const std::string& config_json_path) {
    const auto j = parse_json_object(read_text_file(config_json_path), config_json_path);
    const JsonFields f(j, config_json_path);
    ModelConfigInfo info;
    info.eos_token_ids = f.get_ids("eos_token_id");
    info.bos_token_id = f.get_int("bos_token_id");
    info.pad_token_id = f.get_int("pad_token_id");
    for (const char* key : {"max_position_embeddings", "n_positions", "n_ctx"}) {
        if (auto v = f.get_int(key); v && *v > 0) {
            info.max_context = *v;
            break;
        }
    }
    return info;
}

int64_t peak_memory_kib() {
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
    return -1;
}

}  // namespace kiln::llm
