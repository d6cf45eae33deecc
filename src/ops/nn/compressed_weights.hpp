#pragma once
// Low-bit weights as docs/GENAI.md ("Compressed weights") stores them: W [N, K] or [N, G, g]
// of i8/u8/i4/u4, one f32 scale per (row, group) and an optional zero point, meaning
// W_f[n, k] = (W[n, k] - zp[n, k / g]) * scale[n, k / g]. Shared by the compressed ops'
// reference kernels, the fusion pass that makes them and the CPU kernels that repack them.
#include <cstdint>
#include <string>

#include "kiln/tensor.hpp"

namespace kiln::nn {

/// i8, u8, i4 or u4: the element types a compressed weight may have.
bool is_lowbit_weight_type(ElementType t);

/// Element `i` (row-major) of an integer tensor, 4-bit ones included (two per byte, the first
/// in the low nibble, as OpenVINO packs them).
int32_t lowbit_at(const Tensor& t, int64_t i);

/// How a compressed weight is laid out: N rows of K values in G groups of g.
struct LowBitLayout {
    int64_t n = 0, k = 0, groups = 1, group_size = 0;
};

/// The layout of weight `w` with scale `scale` ([N, 1] for [N, K]; [N, G, 1] for [N, G, g]) and
/// optional zero point `zp` (null, one value, or as many as scale), or an empty string error
/// explaining why they do not fit together (the caller adds its node context).
std::string describe_lowbit_mismatch(const Shape& w, ElementType wt, const Shape& scale,
                                     const Shape* zp);
LowBitLayout lowbit_layout(const Shape& w, const Shape& scale);

/// The zero point of (row n, group g) as a float: 0 without one.
float lowbit_zero_point(const Tensor* zp, const LowBitLayout& l, int64_t n, int64_t g);

/// Dequantizes row `n` of the weight into `out` (K floats).
void dequantize_lowbit_row(const Tensor& w, const Tensor& scale, const Tensor* zp,
                           const LowBitLayout& l, int64_t n, float* out);

}  // namespace kiln::nn
