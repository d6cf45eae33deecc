#pragma once
/// \file Entry points of the ISA-specific pooling files (compiled with their own -m flags, so
/// plain declarations only).
#include <cstdint>

namespace kiln::cpu::pool::detail {

/// Max pooling of `count` outputs along one row whose windows lie inside the plane horizontally:
/// output o reads rows[r] (r < nrows) at columns ix0 + o*sx + j (j < kw) of a plane of width w.
/// Writes the maxima to y and their plane offsets to at; the first maximum wins and NaN never
/// replaces the first tap, as in the reference kernel. False when sx is not 1 or 2.
bool max_row_avx512(const float* plane, int64_t w, const int64_t* rows, int64_t nrows, int64_t kw,
                    int64_t sx, int64_t ix0, int64_t count, float* y, int32_t* at);

}  // namespace kiln::cpu::pool::detail
