#pragma once
// Helpers shared by the reduction family's kernels.
#include <vector>

#include "core/op_def.hpp"
#include "ops/common/float_cast.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln {

/// Normalizes (negative) axes against rank, sorted and de-duplicated; throws naming the node.
std::vector<int64_t> normalize_axes(const Node& node, const std::vector<int64_t>& axes,
                                    int64_t rank);
/// `in` with `axes` (normalized) removed, or set to 1 when keep_dims.
Shape reduced_shape(const Shape& in, const std::vector<int64_t>& axes, bool keep_dims);
/// For every element of a tensor of shape `in`, the linear offset of its reduction slot.
std::vector<int64_t> reduce_out_offsets(const Shape& in, const std::vector<int64_t>& axes);

void register_reduce(OpRegistry& r);
void register_softmax_topk(OpRegistry& r);
void register_linalg(OpRegistry& r);

}  // namespace kiln
