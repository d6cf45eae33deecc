#include "cpu/kernels/split.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "cpu/kernels/elementwise/ew_support.hpp"
#include "cpu/kernels/row_copies.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln::cpu {

using row_copies::kBytesPerCostUnit;
using row_copies::product;

KernelFn make_split_kernel(const Node& node, const KernelContext&) {
    const bool variadic = node.type() == "VariadicSplit";
    if ((!variadic && node.type() != "Split") || node.input_count() != (variadic ? 3u : 2u))
        return {};
    const ElementType type = node.input_type(0);
    if (type == ElementType::dynamic || type == ElementType::string || bit_width(type) < 8)
        return {};
    if (!node.input_shape(0).rank_is_static()) return {};
    const int64_t rank = node.input_shape(0).rank();
    const Tensor* axis_t = node.input_constant(1);
    if (rank < 1 || !axis_t || axis_t->size() != 1) return {};
    const int64_t axis = normalize_axis(node, axis_t->to_int_vector().at(0), rank);
    std::vector<int64_t> lengths;  // variadic: as given, one of them possibly -1
    int64_t parts = 0;
    if (variadic) {
        const Tensor* l = node.input_constant(2);
        if (!l) return {};
        lengths = l->to_int_vector();
        parts = static_cast<int64_t>(lengths.size());
    } else {
        parts = node.attrs().get_int("num_splits", 0);
    }
    if (parts < 1 || static_cast<int64_t>(node.output_count()) != parts) return {};
    const std::string context = node.context();

    return [=](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const Shape& shape = in[0].shape();
        KILN_CHECK(static_cast<int64_t>(shape.size()) == rank, context, " input 0 has shape ",
                   to_string(shape), ", expected rank ", rank);
        const int64_t dim = shape[axis];
        std::vector<int64_t> len = lengths;
        if (!variadic) {
            KILN_CHECK(dim % parts == 0, context, " axis ", axis, " of size ", dim,
                       " cannot be split in ", parts, " equal parts");
            len.assign(static_cast<size_t>(parts), dim / parts);
        } else {
            int64_t known = 0, open = -1;
            for (size_t i = 0; i < len.size(); ++i)
                if (len[i] == -1) open = static_cast<int64_t>(i);
                else known += len[i];
            if (open >= 0) len[open] = dim - known;
            const int64_t sum = open >= 0 ? dim : known;
            KILN_CHECK(sum == dim && (open < 0 || len[open] >= 0), context, " split_lengths sum to ",
                       known, open >= 0 ? " (and one -1)" : "", ", axis ", axis, " has size ", dim);
        }
        const size_t es = byte_size(type, 1);
        const int64_t outer = product(shape, 0, axis);
        const int64_t inner = product(shape, axis + 1, rank) * static_cast<int64_t>(es);
        const int64_t in_row = dim * inner;
        out.clear();
        std::vector<int64_t> row(len.size()), offset(len.size());
        int64_t at = 0;
        for (size_t i = 0; i < len.size(); ++i) {
            Shape s = shape;
            s[axis] = len[i];
            out.push_back(ew::uninitialized_tensor(type, s));
            row[i] = len[i] * inner;
            offset[i] = at;
            at += row[i];
        }
        const auto* src = static_cast<const char*>(in[0].raw_data());
        const int64_t outputs = static_cast<int64_t>(len.size());
        const int64_t cost = std::max<int64_t>(in_row / outputs / kBytesPerCostUnit, 1);
        threads_of(ctx).parallel_for(0, outer * outputs, cost, [&](int64_t lo, int64_t hi) {
            for (int64_t t = lo; t < hi; ++t) {
                const int64_t o = t / outputs;
                const size_t i = static_cast<size_t>(t % outputs);
                if (row[i] == 0) continue;
                std::memcpy(static_cast<char*>(out[i].raw_data()) + o * row[i],
                            src + o * in_row + offset[i], static_cast<size_t>(row[i]));
            }
        });
    };
}

}  // namespace kiln::cpu
