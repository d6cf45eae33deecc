#include "ops/common/shape_utils.hpp"

#include <algorithm>

namespace kiln {

int64_t normalize_axis(const Node& node, int64_t axis, int64_t rank) {
    KILN_CHECK(axis >= -rank && axis < std::max<int64_t>(rank, 1), node.context(), " axis ", axis,
               " is out of range for rank ", rank);
    return axis < 0 ? axis + rank : axis;
}

int64_t normalize_axis(const ShapeContext& ctx, int64_t axis, int64_t rank) {
    return normalize_axis(ctx.node(), axis, rank);
}

PartialShape broadcast_partial(const ShapeContext& ctx, const PartialShape& a,
                               const PartialShape& b) {
    if (!a.rank_is_static() || !b.rank_is_static()) return PartialShape();
    const size_t r = std::max(a.size(), b.size());
    std::vector<Dimension> out(r);
    for (size_t i = 0; i < r; ++i) {
        const Dimension da = i + a.size() >= r ? a[i + a.size() - r] : Dimension(1);
        const Dimension db = i + b.size() >= r ? b[i + b.size() - r] : Dimension(1);
        if (da.is_static() && db.is_static()) {
            const int64_t x = da.get_length(), y = db.get_length();
            ctx.check(x == y || x == 1 || y == 1, "cannot broadcast shapes ", to_string(a),
                      " and ", to_string(b));
            out[i] = x == 1 ? y : x;
        } else if (da.is_static() && da.get_length() != 1) {
            out[i] = da;
        } else if (db.is_static() && db.get_length() != 1) {
            out[i] = db;
        } else if (da.is_static()) {  // da == 1
            out[i] = db;
        } else if (db.is_static()) {
            out[i] = da;
        } else {
            out[i] = Dimension::dynamic();
        }
    }
    return PartialShape(out);
}

Shape broadcast_static(const Shape& a, const Shape& b) {
    const size_t r = std::max(a.size(), b.size());
    Shape out(r);
    for (size_t i = 0; i < r; ++i) {
        const int64_t x = i + a.size() >= r ? a[i + a.size() - r] : 1;
        const int64_t y = i + b.size() >= r ? b[i + b.size() - r] : 1;
        KILN_CHECK(x == y || x == 1 || y == 1, "cannot broadcast shapes ", to_string(a), " and ",
                   to_string(b));
        out[i] = x == 1 ? y : x;
    }
    return out;
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
    std::vector<int64_t> s(out.size(), 0);
    auto in_strides = row_major_strides(in);
    const size_t off = out.size() - in.size();
    for (size_t i = 0; i < in.size(); ++i) s[off + i] = in[i] == 1 ? 0 : in_strides[i];
    return s;
}

std::optional<std::vector<int64_t>> const_ints(const ShapeContext& ctx, size_t input) {
    const Tensor* t = ctx.input_value(input);
    if (!t) return std::nullopt;
    return t->to_int_vector();
}

}  // namespace kiln
