#pragma once
// Helpers shared by the misc family's kernels.
#include <type_traits>

#include "core/op_def.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln {

/// A double result stored as floating type T (through float for the 16/32-bit types, which
/// have no direct conversion from double).
template <class T>
T from_f64(double v) {
    if constexpr (std::is_same_v<T, double>)
        return v;
    else
        return static_cast<T>(static_cast<float>(v));
}

void register_spectral(OpRegistry& r);
void register_features(OpRegistry& r);

}  // namespace kiln
