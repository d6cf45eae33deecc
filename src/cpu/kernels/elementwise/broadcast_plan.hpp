#pragma once
// Numpy broadcasting of two operands reduced to rows: the output is `rows` rows of `inner`
// elements, each computed by one row primitive (vector-vector, vector-scalar, scalar-vector).
// Adjacent axes along which both operands behave alike are merged first, so the usual cases
// cost one row call per row: same shapes and scalars give one row, a bias [N] on [..., N] gives
// rows of N, a per-channel [1,C,1,1] on NCHW gives N*C rows of H*W with a scalar side.
#include <cstdint>
#include <optional>
#include <vector>

#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "kiln/shape.hpp"

namespace kiln::cpu::ew {

struct BroadcastPlan {
    Shape out;          // the broadcast output shape
    int64_t inner = 1;  // elements per row
    Operands kind = Operands::vector_vector;
    std::vector<int64_t> outer;               // merged outer extents, outermost first
    std::vector<int64_t> a_stride, b_stride;  // element strides of each operand per outer axis

    int64_t rows() const;
};

/// The operand offsets of one row of a plan, and its index along the innermost outer axis.
struct RowStart {
    RowStart(const BroadcastPlan& plan, int64_t row);
    int64_t a_off = 0, b_off = 0, last_index = 0;
};

/// The plan for a (op) b, or nothing when the shapes do not broadcast.
std::optional<BroadcastPlan> plan_broadcast(const Shape& a, const Shape& b);

}  // namespace kiln::cpu::ew
