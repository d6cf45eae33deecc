#pragma once
/// \file Reading ONNX models and ONNX TensorProto files.
#include <memory>
#include <string>

#include "kiln/model.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

/// Reads an .onnx file (external data is resolved next to it) and translates it into a Model.
/// Models older than opset 13 are first upgraded with ONNX's version converter.
std::shared_ptr<Model> read_onnx(const std::string& path);
/// Same, from serialized bytes; `base_dir` locates external data.
std::shared_ptr<Model> read_onnx_from_memory(const std::string& bytes, const std::string& base_dir,
                                             const std::string& name = "model");

/// Reads a serialized ONNX TensorProto (the input_K.pb / output_K.pb files of ONNX test data).
Tensor read_onnx_tensor(const std::string& path);
/// Writes a TensorProto file.
void write_onnx_tensor(const Tensor& tensor, const std::string& path, const std::string& name = "");

}  // namespace kiln
