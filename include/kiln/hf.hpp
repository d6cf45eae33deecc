#pragma once
/// \file Reading Hugging Face causal-LM folders (config.json + safetensors weights).
#include <memory>
#include <string>
#include <vector>

#include "kiln/model.hpp"

namespace kiln {

/// True when `path` is a folder holding a config.json.
bool is_hf_model_folder(const std::string& path);

/// Builds the stateful LLM graph (docs/GENAI.md, "The LLM graph contract") of a Hugging Face
/// folder: config.json picks the architecture and its sizes; the weights come from
/// model.safetensors or the shards of model.safetensors.index.json, memory-mapped. The model's
/// rt_info carries "model_type". Errors (an unsupported model_type, a missing field, a corrupt or
/// missing weights file, a missing tensor) are kiln::Errors naming the file.
std::shared_ptr<Model> read_hf_model(const std::string& folder);

/// The files of a Hugging Face folder that travel beside a converted model (tokenizer,
/// generation settings, config), in the order `kiln convert` copies them.
const std::vector<std::string>& hf_side_files();

}  // namespace kiln
