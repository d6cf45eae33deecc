#include "kiln/element_type.hpp"

#include <array>

#include "kiln/error.hpp"

namespace kiln {
namespace {

struct TypeInfo {
    ElementType type;
    const char* name;
    const char* precision;  // the older IR "precision" spelling
    size_t bits;
    bool is_float;
    bool is_signed;
};

constexpr std::array<TypeInfo, 19> kTypes = {{
    {ElementType::undefined, "undefined", "UNSPECIFIED", 0, false, false},
    {ElementType::dynamic, "dynamic", "DYNAMIC", 0, false, false},
    {ElementType::boolean, "boolean", "BOOL", 8, false, false},
    {ElementType::f16, "f16", "FP16", 16, true, true},
    {ElementType::bf16, "bf16", "BF16", 16, true, true},
    {ElementType::f32, "f32", "FP32", 32, true, true},
    {ElementType::f64, "f64", "FP64", 64, true, true},
    {ElementType::i4, "i4", "I4", 4, false, true},
    {ElementType::u4, "u4", "U4", 4, false, false},
    {ElementType::u1, "u1", "BIN", 1, false, false},
    {ElementType::i8, "i8", "I8", 8, false, true},
    {ElementType::u8, "u8", "U8", 8, false, false},
    {ElementType::i16, "i16", "I16", 16, false, true},
    {ElementType::u16, "u16", "U16", 16, false, false},
    {ElementType::i32, "i32", "I32", 32, false, true},
    {ElementType::u32, "u32", "U32", 32, false, false},
    {ElementType::i64, "i64", "I64", 64, false, true},
    {ElementType::u64, "u64", "U64", 64, false, false},
    {ElementType::string, "string", "STRING", sizeof(std::string) * 8, false, false},
}};

const TypeInfo& info(ElementType t) {
    auto i = static_cast<size_t>(t);
    KILN_CHECK(i < kTypes.size(), "invalid element type code ", i);
    return kTypes[i];
}

}  // namespace

std::string_view to_string(ElementType t) { return info(t).name; }

ElementType element_type_from_string(std::string_view name) {
    for (const auto& ti : kTypes) {
        if (name == ti.name || name == ti.precision) return ti.type;
    }
    if (name == "bool") return ElementType::boolean;
    if (name == "FP64") return ElementType::f64;
    KILN_THROW("unknown element type '", name, "'");
}

size_t bit_width(ElementType t) { return info(t).bits; }

size_t byte_size(ElementType t, size_t n) { return (bit_width(t) * n + 7) / 8; }

bool is_float(ElementType t) { return info(t).is_float; }
bool is_signed(ElementType t) { return info(t).is_signed; }
bool is_integral(ElementType t) {
    return !is_float(t) && t != ElementType::string && t != ElementType::undefined &&
           t != ElementType::dynamic;
}

}  // namespace kiln
