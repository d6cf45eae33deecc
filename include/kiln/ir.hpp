#pragma once
/// \file Kiln IR files: XML topology + BIN weights, laid out like OpenVINO IR v11.
#include <memory>
#include <string>

#include "kiln/model.hpp"

namespace kiln {

/// Reads an IR. The weights file (default: the .xml path with .bin) is memory-mapped read-only
/// and constants view it in place.
std::shared_ptr<Model> read_ir(const std::string& xml_path, const std::string& bin_path = "");

/// The IR a model folder holds (`model.xml`, else OpenVINO's `openvino_model.xml`), or an empty
/// string when it holds neither: a converted LLM folder keeps its IR beside its tokenizer files.
std::string ir_in_folder(const std::string& folder);

struct SaveOptions {
    /// Store f32 constants as f16 followed by a Convert back to f32 (as OpenVINO does).
    bool compress_to_fp16 = false;
};

/// Writes `model` to xml_path and the .bin beside it.
void save_model(const Model& model, const std::string& xml_path, const SaveOptions& options = {});

}  // namespace kiln
