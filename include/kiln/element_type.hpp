#pragma once
/// \file Element types of tensors, with their names in Kiln, OpenVINO IR and sizes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/float16.hpp"

namespace kiln {

enum class ElementType : uint8_t {
    undefined,
    dynamic,
    boolean,
    f16,
    bf16,
    f32,
    f64,
    i4,
    u4,
    u1,
    i8,
    u8,
    i16,
    u16,
    i32,
    u32,
    i64,
    u64,
    string,
};

/// Lower-case name as OpenVINO IR writes it in `element_type` ("f32", "boolean", "u4", ...).
std::string_view to_string(ElementType t);
/// Parses names used in IR files: both "f32" and the precision spelling "FP32" / "I64" / "BOOL".
ElementType element_type_from_string(std::string_view name);
/// Bits per element (4 for i4/u4, 1 for u1; sizeof(std::string)*8 for string).
size_t bit_width(ElementType t);
/// Bytes needed for n elements (packed types round up).
size_t byte_size(ElementType t, size_t n);
bool is_float(ElementType t);
bool is_signed(ElementType t);
bool is_integral(ElementType t);  // integers and boolean

/// Maps C++ types to element types: element_type_of<float>() == ElementType::f32.
template <class T>
constexpr ElementType element_type_of();
template <> constexpr ElementType element_type_of<bool>() { return ElementType::boolean; }
template <> constexpr ElementType element_type_of<float16>() { return ElementType::f16; }
template <> constexpr ElementType element_type_of<bfloat16>() { return ElementType::bf16; }
template <> constexpr ElementType element_type_of<float>() { return ElementType::f32; }
template <> constexpr ElementType element_type_of<double>() { return ElementType::f64; }
template <> constexpr ElementType element_type_of<int8_t>() { return ElementType::i8; }
template <> constexpr ElementType element_type_of<uint8_t>() { return ElementType::u8; }
template <> constexpr ElementType element_type_of<int16_t>() { return ElementType::i16; }
template <> constexpr ElementType element_type_of<uint16_t>() { return ElementType::u16; }
template <> constexpr ElementType element_type_of<int32_t>() { return ElementType::i32; }
template <> constexpr ElementType element_type_of<uint32_t>() { return ElementType::u32; }
template <> constexpr ElementType element_type_of<int64_t>() { return ElementType::i64; }
template <> constexpr ElementType element_type_of<uint64_t>() { return ElementType::u64; }
template <> constexpr ElementType element_type_of<std::string>() { return ElementType::string; }

}  // namespace kiln
