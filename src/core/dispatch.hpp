#pragma once
// Calls a generic lambda with a type tag matching a runtime element type, so reference kernels
// are written once as templates: dispatch_numeric(t, [&](auto tag) { using T = TYPE_OF(tag); });
#include <string>

#include "kiln/element_type.hpp"
#include "kiln/error.hpp"

namespace kiln {

template <class T>
struct TypeTag {
    using type = T;
};
#define KILN_TYPE_OF(tag) typename decltype(tag)::type

/// Every type with a C++ representation except string and the packed ones.
template <class F>
decltype(auto) dispatch_numeric(ElementType t, F&& f) {
    switch (t) {
        case ElementType::boolean: return f(TypeTag<bool>{});
        case ElementType::f16: return f(TypeTag<float16>{});
        case ElementType::bf16: return f(TypeTag<bfloat16>{});
        case ElementType::f32: return f(TypeTag<float>{});
        case ElementType::f64: return f(TypeTag<double>{});
        case ElementType::i8: return f(TypeTag<int8_t>{});
        case ElementType::u8: return f(TypeTag<uint8_t>{});
        case ElementType::i16: return f(TypeTag<int16_t>{});
        case ElementType::u16: return f(TypeTag<uint16_t>{});
        case ElementType::i32: return f(TypeTag<int32_t>{});
        case ElementType::u32: return f(TypeTag<uint32_t>{});
        case ElementType::i64: return f(TypeTag<int64_t>{});
        case ElementType::u64: return f(TypeTag<uint64_t>{});
        default: KILN_THROW("element type ", to_string(t), " is not supported here");
    }
}

/// Numeric types plus string.
template <class F>
decltype(auto) dispatch_any(ElementType t, F&& f) {
    if (t == ElementType::string) return f(TypeTag<std::string>{});
    return dispatch_numeric(t, std::forward<F>(f));
}

/// Floating-point types only.
template <class F>
decltype(auto) dispatch_float(ElementType t, F&& f) {
    switch (t) {
        case ElementType::f16: return f(TypeTag<float16>{});
        case ElementType::bf16: return f(TypeTag<bfloat16>{});
        case ElementType::f32: return f(TypeTag<float>{});
        case ElementType::f64: return f(TypeTag<double>{});
        default: KILN_THROW("element type ", to_string(t), " is not a floating-point type");
    }
}

/// Integer types only (no boolean).
template <class F>
decltype(auto) dispatch_integer(ElementType t, F&& f) {
    switch (t) {
        case ElementType::i8: return f(TypeTag<int8_t>{});
        case ElementType::u8: return f(TypeTag<uint8_t>{});
        case ElementType::i16: return f(TypeTag<int16_t>{});
        case ElementType::u16: return f(TypeTag<uint16_t>{});
        case ElementType::i32: return f(TypeTag<int32_t>{});
        case ElementType::u32: return f(TypeTag<uint32_t>{});
        case ElementType::i64: return f(TypeTag<int64_t>{});
        case ElementType::u64: return f(TypeTag<uint64_t>{});
        default: KILN_THROW("element type ", to_string(t), " is not an integer type");
    }
}

/// Index types used by Gather/TopK/etc.: i32 or i64.
template <class F>
decltype(auto) dispatch_index(ElementType t, F&& f) {
    switch (t) {
        case ElementType::i32: return f(TypeTag<int32_t>{});
        case ElementType::i64: return f(TypeTag<int64_t>{});
        default: return dispatch_integer(t, std::forward<F>(f));
    }
}

}  // namespace kiln
