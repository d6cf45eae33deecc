#pragma once
// Tensor files the CLI reads and writes (.npy and ONNX TensorProto .pb), and text renderings of
// tensors, shapes and sizes.
#include <cstdint>
#include <string>

#include "kiln/model.hpp"
#include "kiln/tensor.hpp"

namespace kiln::tools {

enum class TensorFormat { pb, npy };

/// Reads a .npy or ONNX TensorProto file, chosen by extension (by content for other names).
Tensor load_tensor_file(const std::string& path);
/// Writes `t` to `path` in the given format.
void save_tensor_file(const Tensor& t, const std::string& path, TensorFormat format,
                      const std::string& name = "");
const char* extension(TensorFormat format);  // ".pb" or ".npy"

/// The name users know output i by: the ONNX graph output name where the frontend kept it.
std::string output_name(const Model& model, size_t i);

/// "f32[1,10] [0.1, 0.2, ... ]": the type, shape and the first `max_values` values.
std::string summarize(const Tensor& t, size_t max_values = 6);
/// "12.3 KiB (12594 bytes)".
std::string format_bytes(uint64_t bytes);
/// "1,234,567".
std::string format_count(uint64_t n);
/// "123.4 MiB" for a memory figure in KiB, "unknown" for a negative one (no /proc).
std::string mib_text(int64_t kib);

}  // namespace kiln::tools
