#pragma once
// The integer quantization of one weight matrix W [N, K]: each row is cut into groups of
// consecutive input channels, and each group gets one scale (and one zero point when asymmetric).
#include <cstdint>

#include "kiln/tensor.hpp"

namespace kiln::compress {

struct QuantScheme {
    int bits = 8;            ///< 8 or 4
    bool symmetric = false;  ///< no zero point
    int64_t group_size = 0;  ///< input channels per scale; 0: the whole row (per output channel)
};

/// The stored form: per output channel `values` [N, K] with `scale` [N, 1]; with groups
/// `values` [N, K/g, g] with `scale` [N, K/g, 1]. Zero points (asymmetric only) have the scale's
/// shape. Values and zero points are i8/u8/i4/u4 (4-bit ones packed, low nibble first).
struct QuantizedWeight {
    Tensor values;
    Tensor scale;       ///< f32
    Tensor zero_point;  ///< u8 / u4; empty when symmetric
    size_t byte_size() const;
};

/// Quantizes W [n, k] (row-major). Rules (NNCF's; rounding half to even):
/// - asymmetric, b bits: the range [lo, hi] = [min(min W, 0), max(max W, 0)],
///   scale = (hi - lo) / (2^b - 1), zero point = round(-lo / scale), q = clamp(round(w / scale) +
///   zero point, 0, 2^b - 1).
/// - int8 symmetric: scale = max|W| / 127, q = clamp(round(w / scale), -128, 127).
/// - int4 symmetric: the value of largest magnitude maps to -8 exactly: scale = |min| / 8 when
///   |min| >= max, else -max / 8 (a negative scale), q = clamp(round(w / scale), -8, 7).
/// An all-zero group gets scale 1 and q = 0 (zero point 0). Throws on a non-finite weight; k must
/// be a multiple of a non-zero group_size.
QuantizedWeight quantize(const float* w, int64_t n, int64_t k, const QuantScheme& scheme);

/// What the decompression subgraph computes: (q - zero point) * scale, as f32 [n, k].
Tensor dequantize(const QuantizedWeight& q, int64_t n, int64_t k);

/// ||W - dequantize(quantize(W))||_F / ||W||_F (0 for an all-zero W), without storing q.
double relative_error(const float* w, int64_t n, int64_t k, const QuantScheme& scheme);

}  // namespace kiln::compress
