// StridedSlice (v1): begin/end/strides with begin_mask / end_mask (1 = ignore the value and
// take the whole extent), new_axis_mask, shrink_axis_mask and ellipsis_mask.
#include <algorithm>

#include "ops/movement/movement_utils.hpp"

namespace kiln::movement {
namespace {

// One output axis: from input axis `in_axis` (start, step, length), or a new axis of size 1.
struct OutAxis {
    int64_t in_axis = -1;
    int64_t start = 0, step = 1, length = 1;
};

bool mask_at(const std::vector<int64_t>& m, size_t i) { return i < m.size() && m[i] != 0; }

// Output axes plus input axes removed by shrink (start recorded, no output axis).
struct Plan {
    std::vector<OutAxis> out;
    std::vector<std::pair<int64_t, int64_t>> shrunk;  // (input axis, index)
};

Plan plan_strided_slice(const ShapeContext& ctx, const Shape& in, const std::vector<int64_t>& begin,
                        const std::vector<int64_t>& end, const std::vector<int64_t>& strides) {
    const auto& a = ctx.attrs();
    const auto bm = a.get_ints("begin_mask", {}), em = a.get_ints("end_mask", {});
    const auto nm = a.get_ints("new_axis_mask", {}), sm = a.get_ints("shrink_axis_mask", {});
    const auto elm = a.get_ints("ellipsis_mask", {});
    ctx.check(begin.size() == end.size() && (strides.empty() || strides.size() == begin.size()),
              "begin, end and strides must have the same length");
    const int64_t rank = static_cast<int64_t>(in.size());
    int64_t consuming = 0, ellipses = 0;
    for (size_t i = 0; i < begin.size(); ++i) {
        if (mask_at(elm, i)) ++ellipses;
        else if (!mask_at(nm, i)) ++consuming;
    }
    ctx.check(ellipses <= 1, "more than one ellipsis");
    ctx.check(consuming <= rank, "slice has more entries than the data has axes");
    Plan p;
    int64_t ax = 0;
    for (size_t i = 0; i < begin.size(); ++i) {
        if (mask_at(elm, i)) {
            for (int64_t k = 0; k < rank - consuming; ++k, ++ax)
                p.out.push_back({ax, 0, 1, in[ax]});
        } else if (mask_at(nm, i)) {
            p.out.push_back({-1, 0, 1, 1});
        } else {
            const int64_t d = in[ax];
            const int64_t st = strides.empty() ? 1 : strides[i];
            ctx.check(st != 0, "stride must not be zero");
            if (mask_at(sm, i)) {
                int64_t b = begin[i];
                ctx.check(b >= -d && b < d, "shrink index ", b, " is out of range for size ", d);
                p.shrunk.push_back({ax, b < 0 ? b + d : b});
            } else {
                const int64_t lo = st > 0 ? 0 : -1, hi = st > 0 ? d : d - 1;
                int64_t b = mask_at(bm, i) ? (st > 0 ? 0 : d - 1) : begin[i];
                int64_t e = mask_at(em, i) ? (st > 0 ? d : -1) : end[i];
                if (!mask_at(bm, i)) b = b < 0 ? std::max(b + d, lo) : std::min(b, hi);
                if (!mask_at(em, i)) e = e < 0 ? std::max(e + d, lo) : std::min(e, hi);
                int64_t len = 0;
                if (st > 0 && e > b) len = 1 + (e - b - 1) / st;
                if (st < 0 && b > e) len = 1 + (b - e - 1) / (st == INT64_MIN ? INT64_MAX : -st);
                p.out.push_back({ax, b, st, len});
            }
            ++ax;
        }
    }
    for (; ax < rank; ++ax) p.out.push_back({ax, 0, 1, in[ax]});
    return p;
}

void infer_strided_slice(ShapeContext& ctx) {
    ctx.expect_inputs(3, 4);
    for (size_t i = 1; i < ctx.input_count(); ++i) check_index_type(ctx, i);
    const PartialShape& in = ctx.input_shape(0);
    auto b = const_ints(ctx, 1), e = const_ints(ctx, 2);
    std::optional<std::vector<int64_t>> s = std::vector<int64_t>{};
    if (ctx.input_count() == 4) s = const_ints(ctx, 3);
    if (!in.is_static() || !b || !e || !s) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    Plan p = plan_strided_slice(ctx, in.to_shape(), *b, *e, *s);
    Shape out;
    for (const auto& o : p.out) out.push_back(o.length);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_strided_slice(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    std::vector<ElementType> types;
    std::vector<PartialShape> shapes;
    std::vector<const Tensor*> values;
    for (const auto& t : in) {
        types.push_back(t.element_type());
        shapes.emplace_back(t.shape());
        values.push_back(&t);
    }
    ShapeContext ctx(n, types, shapes, values);
    const Shape& is = in[0].shape();
    Plan p = plan_strided_slice(ctx, is, in[1].to_int_vector(), in[2].to_int_vector(),
                                in.size() > 3 ? in[3].to_int_vector() : std::vector<int64_t>{});
    const auto strides = row_major_strides(is);
    int64_t base = 0;
    for (const auto& [ax, idx] : p.shrunk) base += idx * strides[ax];
    std::vector<int64_t> map(out[0].size());
    for_each_index(out[0].shape(), [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = base;
        for (size_t d = 0; d < p.out.size(); ++d)
            if (p.out[d].in_axis >= 0)
                off += (p.out[d].start + pos[d] * p.out[d].step) * strides[p.out[d].in_axis];
        map[i] = off;
    });
    gather_by_map(in[0], out[0], map);
}

}  // namespace

void register_strided_slice_ops(OpRegistry& r) {
    r.add({"StridedSlice", "opset1", infer_strided_slice, eval_strided_slice});
}

}  // namespace kiln::movement
