#pragma once
// Shared helpers for shape inference and reference kernels: axis normalization, numpy
// broadcasting, and iteration over broadcast operands.
#include <array>
#include <optional>
#include <vector>

#include "core/op_def.hpp"

namespace kiln {

/// Maps a possibly negative axis into [0, rank); throws with the node context when out of range.
int64_t normalize_axis(const ShapeContext& ctx, int64_t axis, int64_t rank);
int64_t normalize_axis(const Node& node, int64_t axis, int64_t rank);

/// Numpy-style broadcast of two partial shapes; throws naming both shapes when incompatible.
PartialShape broadcast_partial(const ShapeContext& ctx, const PartialShape& a,
                               const PartialShape& b);
/// Numpy-style broadcast of static shapes.
Shape broadcast_static(const Shape& a, const Shape& b);

/// Strides of `in` seen as broadcast to `out` (0 on broadcast axes), aligned right.
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

/// Calls fn(out_index, offsets...) for every element of `out`, where offsets[k] is the linear
/// offset into operand k (broadcast to `out`).
template <size_t N, class Fn>
void for_each_broadcast(const Shape& out, const std::array<Shape, N>& ins, Fn&& fn) {
    const int64_t total = shape_size(out);
    if (total == 0) return;
    const size_t rank = out.size();
    std::array<std::vector<int64_t>, N> strides;
    for (size_t k = 0; k < N; ++k) strides[k] = broadcast_strides(ins[k], out);
    std::vector<int64_t> idx(rank, 0);
    std::array<int64_t, N> off{};
    for (int64_t i = 0; i < total; ++i) {
        fn(i, off);
        for (int64_t d = static_cast<int64_t>(rank) - 1; d >= 0; --d) {
            if (++idx[d] < out[d]) {
                for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
                break;
            }
            for (size_t k = 0; k < N; ++k) off[k] -= strides[k][d] * (out[d] - 1);
            idx[d] = 0;
        }
    }
}

/// Splits `shape` around `axis` into (outer, axis extent, inner) element counts.
struct AxisSplit {
    int64_t outer = 1, n = 1, inner = 1;
};
inline AxisSplit split_at_axis(const Shape& shape, int64_t axis) {
    AxisSplit s;
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
        if (d < axis)
            s.outer *= shape[d];
        else if (d == axis)
            s.n = shape[d];
        else
            s.inner *= shape[d];
    }
    return s;
}

/// Value of a constant 1-D (or scalar) integer input, or nullopt when not known.
std::optional<std::vector<int64_t>> const_ints(const ShapeContext& ctx, size_t input);

}  // namespace kiln
