#pragma once
// Where an LLM's files are (the graph and the tokenizer and config files beside it) and what
// generation needs from config.json.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::llm {

struct ModelFiles {
    /// What Core::read_model reads: an .xml / .onnx file, or a Hugging Face folder.
    std::string model;
    /// The folder of tokenizer.json, tokenizer_config.json, generation_config.json, config.json.
    std::string dir;
};

/// `path` is a model file, or a folder holding model.xml, openvino_model.xml or (a Hugging Face
/// folder) config.json.
ModelFiles locate_model_files(const std::string& path);

/// The generation-related fields of config.json.
struct ModelConfigInfo {
    std::vector<int64_t> eos_token_ids;
    std::optional<int64_t> bos_token_id, pad_token_id;
    /// max_position_embeddings (n_positions / n_ctx for GPT-2); 0 when absent.
    int64_t max_context = 0;
};

ModelConfigInfo read_model_config_info(const std::string& config_json_path);

/// VmHWM of this process in KiB (what `kiln benchmark` reports as peak memory); -1 if unknown.
int64_t peak_memory_kib();

}  // namespace kiln::llm
