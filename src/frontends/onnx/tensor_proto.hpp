#pragma once
// Conversions between ONNX TensorProto and kiln::Tensor.
#include <string>

#include "kiln/tensor.hpp"
#include "onnx/onnx_pb.h"

namespace kiln::onnx_fe {

/// Throws naming the type when ONNX's data type has no Kiln equivalent.
ElementType element_type_from_onnx(int32_t onnx_type);
int32_t element_type_to_onnx(ElementType t);

/// Reads a TensorProto; `base_dir` resolves external data locations.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir = "");
onnx::TensorProto tensor_to_proto(const Tensor& t, const std::string& name = "");

}  // namespace kiln::onnx_fe
