#pragma once
// Helpers shared by the misc family's kernels.
#include "core/op_def.hpp"

namespace kiln {

/// (outer, axis extent, inner) element counts of `shape` around `axis`.
struct AxisSplitM {
    int64_t outer = 1, n = 1, inner = 1;
};
inline AxisSplitM split_axis(const Shape& shape, int64_t axis) {
    AxisSplitM s;
    for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
        if (d < axis) s.outer *= shape[d];
        else if (d == axis) s.n = shape[d];
        else s.inner *= shape[d];
    }
    return s;
}

void register_spectral(OpRegistry& r);
void register_features(OpRegistry& r);

}  // namespace kiln
