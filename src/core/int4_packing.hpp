#pragma once
// 4-bit elements (i4, u4) are packed two per byte, element 2j in the low nibble of byte j and
// element 2j+1 in the high nibble, as OpenVINO stores them in memory and in IR .bin files.
#include <cstdint>

namespace kiln::int4 {

inline uint8_t get_u4(const uint8_t* data, int64_t i) {
    return static_cast<uint8_t>((data[i >> 1] >> ((i & 1) * 4)) & 0x0F);
}

inline int8_t get_i4(const uint8_t* data, int64_t i) {
    const int v = get_u4(data, i);
    return static_cast<int8_t>(v >= 8 ? v - 16 : v);
}

/// Stores the low 4 bits of `v` (an i4 in [-8, 7] or a u4 in [0, 15]) as element i.
inline void set_4bit(uint8_t* data, int64_t i, int v) {
    uint8_t& b = data[i >> 1];
    const int shift = static_cast<int>(i & 1) * 4;
    b = static_cast<uint8_t>((b & ~(0x0F << shift)) | ((v & 0x0F) << shift));
}

}  // namespace kiln::int4
