#pragma once
// Storing double results in the floating element types of reference kernels.
#include <type_traits>

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

}  // namespace kiln
