#pragma once
/// \file NumPy .npy files (format versions 1.0, 2.0 and 3.0).
///
/// Supported: little-endian (or byte-order-free) numeric and boolean dtypes in C order:
/// bool, int8..int64, uint8..uint64, float16, float32, float64. Everything else (Fortran order,
/// big-endian data, object/string/structured dtypes) is refused with a kiln::Error that says why.
#include <string>

#include "kiln/tensor.hpp"

namespace kiln {

/// Reads an .npy file.
Tensor read_npy(const std::string& path);
/// Parses the bytes of an .npy file; `what` names the source in error messages.
Tensor parse_npy(const std::string& bytes, const std::string& what = "npy data");

/// Writes `tensor` as an .npy file (format 1.0, or 2.0 when the header needs it).
/// Throws for element types NumPy has no dtype for (bf16, i4, u4, u1, string).
void write_npy(const Tensor& tensor, const std::string& path);
/// The bytes of the .npy file write_npy would write.
std::string serialize_npy(const Tensor& tensor);

/// The NumPy dtype string Kiln writes for an element type ("<f4", "|b1", ...); throws when none.
std::string npy_dtype(ElementType type);

}  // namespace kiln
