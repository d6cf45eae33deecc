#include "cpu/kernels/concat.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/kernels/elementwise/ew_support.hpp"
#include "cpu/kernels/row_copies.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln::cpu {

using row_copies::kBytesPerCostUnit;
using row_copies::product;

KernelFn make_concat_kernel(const Node& node, const KernelContext&) {
    if (node.type() != "Concat" || node.input_count() < 1) return {};
    const ElementType type = node.input_type(0);
    if (type == ElementType::dynamic || type == ElementType::string || bit_width(type) < 8)
        return {};
    for (size_t i = 0; i < node.input_count(); ++i)
        if (node.input_type(i) != type || !node.input_shape(i).rank_is_static()) return {};
    const int64_t rank = node.input_shape(0).rank();
    if (rank < 1) return {};
    const int64_t axis = normalize_axis(node, node.attrs().get_int("axis", 0), rank);
    const std::string context = node.context();

    return [=](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        Shape shape = in[0].shape();
        KILN_CHECK(static_cast<int64_t>(shape.size()) == rank, context, " input 0 has shape ",
                   to_string(shape), ", expected rank ", rank);
        shape[axis] = 0;
        for (size_t i = 0; i < in.size(); ++i) {
            const Shape& s = in[i].shape();
            bool ok = in[i].element_type() == type && s.size() == shape.size();
            for (int64_t d = 0; ok && d < rank; ++d) ok = d == axis || s[d] == shape[d];
            KILN_CHECK(ok, context, " input ", i, " (", describe(in[i]),
                       ") does not match input 0 (", describe(in[0]), ") outside axis ", axis);
            shape[axis] += s[axis];
        }
        Tensor y = ew::uninitialized_tensor(type, shape);
        const size_t es = byte_size(type, 1);
        const int64_t outer = product(shape, 0, axis);
        const int64_t out_row = product(shape, axis, rank) * static_cast<int64_t>(es);
        std::vector<int64_t> row(in.size()), offset(in.size());
        int64_t total = 0;
        for (size_t i = 0; i < in.size(); ++i) {
            row[i] = product(in[i].shape(), axis, rank) * static_cast<int64_t>(es);
            offset[i] = total;
            total += row[i];
        }
        auto* dst = static_cast<char*>(y.raw_data());
        const int64_t inputs = static_cast<int64_t>(in.size());
        const int64_t cost = std::max<int64_t>(out_row / inputs / kBytesPerCostUnit, 1);
        threads_of(ctx).parallel_for(0, outer * inputs, cost, [&](int64_t lo, int64_t hi) {
            for (int64_t t = lo; t < hi; ++t) {
                const int64_t o = t / inputs;
                const size_t i = static_cast<size_t>(t % inputs);
                if (row[i] == 0) continue;
                const auto* src = static_cast<const char*>(in[i].raw_data());
                std::memcpy(dst + o * out_row + offset[i], src + o * row[i],
                            static_cast<size_t>(row[i]));
            }
        });
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
