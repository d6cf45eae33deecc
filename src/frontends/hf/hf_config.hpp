#pragma once
/// \file config.json of a Hugging Face causal LM -> LlmConfig.
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "frontends/hf/llm_config.hpp"

namespace kiln::hf {

/// The JSON document in `path`; a kiln::Error naming the file when it cannot be read or parsed.
nlohmann::json read_json_file(const std::string& path);

/// Reads `path` (a config.json) and normalizes it; see parse_llm_config.
LlmConfig read_llm_config(const std::string& path);

/// The "model_type" of a config.json object; `source` (the file) names it in errors.
std::string config_model_type(const nlohmann::json& config, const std::string& source);

/// Normalizes a config.json object: GPT-2 spellings (n_embd, n_layer, ...) for model_type "gpt2",
/// Llama's (hidden_size, num_hidden_layers, ...) for every other type, with the per-type
/// defaults of transformers where a field may be left out (Qwen2: q/k/v biases, sliding window
/// only with use_sliding_window; GPT-2: tied embeddings). A missing required field or a bad
/// value is a kiln::Error naming the field and `source`.
LlmConfig parse_llm_config(const nlohmann::json& config, const std::string& source);

}  // namespace kiln::hf
