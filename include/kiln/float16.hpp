#pragma once
/// \file 16-bit floating point storage types (IEEE half and bfloat16) that compute through float.
#include <cstdint>
#include <cstring>

namespace kiln {

/// IEEE 754 binary16. Arithmetic happens in float via the implicit conversion.
struct float16 {
    uint16_t bits = 0;
    float16() = default;
    float16(float f) : bits(from_float(f)) {}  // NOLINT: implicit by design, like a builtin type
    operator float() const { return to_float(bits); }
    static float16 from_bits(uint16_t b) {
        float16 h;
        h.bits = b;
        return h;
    }
    static uint16_t from_float(float f);
    static float to_float(uint16_t h);
};

/// bfloat16: the upper half of an IEEE float, rounded to nearest even.
struct bfloat16 {
    uint16_t bits = 0;
    bfloat16() = default;
    bfloat16(float f) : bits(from_float(f)) {}  // NOLINT
    operator float() const {
        uint32_t u = static_cast<uint32_t>(bits) << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }
    static bfloat16 from_bits(uint16_t b) {
        bfloat16 h;
        h.bits = b;
        return h;
    }
    static uint16_t from_float(float f) {
        uint32_t u;
        std::memcpy(&u, &f, 4);
        if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // NaN
        u += 0x7fffu + ((u >> 16) & 1u);
        return static_cast<uint16_t>(u >> 16);
    }
};

}  // namespace kiln
