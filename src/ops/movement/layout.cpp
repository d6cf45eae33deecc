// Ops that move elements to new positions: Transpose, Slice (v8), Tile, Broadcast (v3),
// Pad (v12), Reverse, ReverseSequence, DepthToSpace, SpaceToDepth. Kernels build an index map
// (output element -> input element) and copy through it, so they work for every element type.
#include <algorithm>

#include "ops/movement/movement_utils.hpp"

namespace kiln::movement {
namespace {

std::vector<int64_t> transpose_order(const Node& n, const std::vector<int64_t>& order,
                                     int64_t rank) {
    std::vector<int64_t> o = order;
    if (o.empty()) {
        for (int64_t i = rank - 1; i >= 0; --i) o.push_back(i);
    }
    KILN_CHECK(static_cast<int64_t>(o.size()) == rank, n.context(), " order has ", o.size(),
               " axes, data has rank ", rank);
    std::vector<bool> seen(rank, false);
    for (int64_t& a : o) {
        a = normalize_axis(n, a, rank);
        KILN_CHECK(!seen[a], n.context(), " order repeats axis ", a);
        seen[a] = true;
    }
    return o;
}

void infer_transpose(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_index_type(ctx, 1);
    const PartialShape& in = ctx.input_shape(0);
    auto order = const_ints(ctx, 1);
    if (!in.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    if (!order) {
        ctx.set_output(0, ctx.input_type(0), PartialShape::dynamic(in.rank()));
        return;
    }
    auto o = transpose_order(ctx.node(), *order, in.rank());
    std::vector<Dimension> out;
    for (int64_t a : o) out.push_back(in[a]);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_transpose(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& is = in[0].shape();
    auto o = transpose_order(n, in[1].to_int_vector(), is.size());
    const auto strides = row_major_strides(is);
    std::vector<int64_t> map(out[0].size());
    for_each_index(out[0].shape(), [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = 0;
        for (size_t d = 0; d < o.size(); ++d) off += pos[d] * strides[o[d]];
        map[i] = off;
    });
    gather_by_map(in[0], out[0], map);
}

// Per-axis start and step of a Slice, computed numpy-style with clamping.
struct AxisSlice {
    int64_t start = 0, step = 1, length = 0;
};

AxisSlice slice_axis(int64_t dim, int64_t start, int64_t stop, int64_t step) {
    AxisSlice r;
    r.step = step;
    if (step > 0) {
        start = start < 0 ? std::max<int64_t>(start + dim, 0) : std::min(start, dim);
        stop = stop < 0 ? std::max<int64_t>(stop + dim, 0) : std::min(stop, dim);
        r.length = stop > start ? 1 + (stop - start - 1) / step : 0;
    } else {
        start = start < 0 ? std::max<int64_t>(start + dim, -1) : std::min(start, dim - 1);
        stop = stop < 0 ? std::max<int64_t>(stop + dim, -1) : std::min(stop, dim - 1);
        // -step cannot overflow: step == INT64_MIN still gives length 1 through this form.
        r.length = start > stop ? 1 + (start - stop - 1) / (step == INT64_MIN ? INT64_MAX : -step)
                                : 0;
    }
    r.start = start;
    return r;
}

// Slice(data, start, stop, step, axes?) -> per-axis slices, or nullopt when inputs are unknown.
std::optional<std::vector<std::optional<AxisSlice>>> slice_plan(
    const ShapeContext& ctx, const PartialShape& in) {
    auto start = const_ints(ctx, 1), stop = const_ints(ctx, 2), step = const_ints(ctx, 3);
    std::optional<std::vector<int64_t>> axes;
    if (ctx.input_count() > 4) {
        axes = const_ints(ctx, 4);
        if (!axes) return std::nullopt;
    }
    if (!start || !stop || !step) return std::nullopt;
    const int64_t rank = in.rank();
    ctx.check(start->size() == stop->size() && start->size() == step->size(),
              "start, stop and step must have the same length");
    if (!axes) {
        ctx.check(static_cast<int64_t>(start->size()) <= rank, "more slice entries than axes");
        axes = std::vector<int64_t>(start->size());
        for (size_t i = 0; i < axes->size(); ++i) (*axes)[i] = static_cast<int64_t>(i);
    }
    ctx.check(axes->size() == start->size(), "axes and start must have the same length");
    std::vector<std::optional<AxisSlice>> plan(rank);
    std::vector<bool> seen(rank, false);
    for (size_t i = 0; i < axes->size(); ++i) {
        const int64_t a = normalize_axis(ctx, (*axes)[i], rank);
        ctx.check(!seen[a], "axis ", a, " is repeated");
        seen[a] = true;
        ctx.check((*step)[i] != 0, "step must not be zero");
        if (in[a].is_static())
            plan[a] = slice_axis(in[a].get_length(), (*start)[i], (*stop)[i], (*step)[i]);
        else
            plan[a] = AxisSlice{0, 0, -1};  // sliced, extent unknown
    }
    return plan;
}

void infer_slice(ShapeContext& ctx) {
    ctx.expect_inputs(4, 5);
    for (size_t i = 1; i < ctx.input_count(); ++i) check_index_type(ctx, i);
    const PartialShape& in = ctx.input_shape(0);
    if (!in.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    auto plan = slice_plan(ctx, in);
    std::vector<Dimension> out = in.dims();
    // Without the bounds, only the listed axes (all of them when axes are unknown) may change.
    std::vector<bool> touched(in.rank(), true);
    if (auto axes = ctx.input_count() > 4 ? const_ints(ctx, 4) : std::nullopt; !plan && axes) {
        std::fill(touched.begin(), touched.end(), false);
        for (int64_t a : *axes) touched[normalize_axis(ctx, a, in.rank())] = true;
    }
    for (int64_t d = 0; d < in.rank(); ++d) {
        if (!plan) out[d] = touched[d] ? Dimension::dynamic() : in[d];
        else if ((*plan)[d]) out[d] = (*plan)[d]->length >= 0 ? Dimension((*plan)[d]->length)
                                                             : Dimension::dynamic();
    }
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_slice(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
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
    auto plan = *slice_plan(ctx, PartialShape(is));
    Shape os = is;
    for (size_t d = 0; d < is.size(); ++d)
        if (plan[d]) os[d] = plan[d]->length;
    out.assign(1, Tensor(in[0].element_type(), os));
    const auto strides = row_major_strides(is);
    std::vector<int64_t> map(out[0].size());
    for_each_index(os, [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = 0;
        for (size_t d = 0; d < is.size(); ++d) {
            const int64_t p = plan[d] ? plan[d]->start + pos[d] * plan[d]->step : pos[d];
            off += p * strides[d];
        }
        map[i] = off;
    });
    gather_by_map(in[0], out[0], map);
}

// Shared map builder: out position -> in position per axis via fn(axis, out_pos) (-1 = fill).
template <class Fn>
std::vector<int64_t> build_map(const Shape& is, const Shape& os, Fn&& axis_map) {
    const auto strides = row_major_strides(is);
    std::vector<int64_t> map(shape_size(os));
    for_each_index(os, [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = 0;
        for (size_t d = 0; d < os.size(); ++d) {
            const int64_t p = axis_map(d, pos[d]);
            if (p < 0) {
                off = -1;
                break;
            }
            off += p * strides[d];
        }
        map[i] = off;
    });
    return map;
}

void infer_tile(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_index_type(ctx, 1);
    const PartialShape& in = ctx.input_shape(0);
    auto reps = const_ints(ctx, 1);
    if (!reps || !in.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    const size_t rank = std::max(in.size(), reps->size());
    std::vector<Dimension> out(rank);
    for (size_t i = 0; i < rank; ++i) {
        const Dimension d = i + in.size() >= rank ? in[i + in.size() - rank] : Dimension(1);
        const int64_t r = i + reps->size() >= rank ? (*reps)[i + reps->size() - rank] : 1;
        ctx.check(r >= 0, "repeats must not be negative");
        out[i] = d.is_static() ? Dimension(checked_mul(ctx, d.get_length(), r)) : Dimension::dynamic();
    }
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_tile(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& os = out[0].shape();
    Shape is = in[0].shape();
    is.insert(is.begin(), os.size() - is.size(), 1);
    auto map = build_map(is, os, [&](size_t d, int64_t p) { return p % is[d]; });
    gather_by_map(in[0], out[0], map);
}


// Broadcast v3: numpy (data fits into target_shape), bidirectional (numpy broadcast of both
// shapes) or explicit (axes_mapping places each data axis in the output).
std::string broadcast_mode(const Node& n) {
    std::string m = n.attrs().get_string("mode", "numpy");
    KILN_CHECK(m == "numpy" || m == "bidirectional" || m == "explicit", n.context(),
               " unknown broadcast mode ", m);
    return m;
}

// The data shape laid out on the output axes (1 where the data has no axis).
Shape broadcast_aligned(const Node& n, const Shape& data, size_t out_rank,
                        const std::vector<int64_t>* axes_mapping) {
    Shape aligned(out_rank, 1);
    if (axes_mapping) {
        KILN_CHECK(axes_mapping->size() == data.size(), n.context(), " axes_mapping has ",
                   axes_mapping->size(), " entries for data of rank ", data.size());
        int64_t prev = -1;
        for (size_t i = 0; i < data.size(); ++i) {
            const int64_t a = (*axes_mapping)[i];
            KILN_CHECK(a > prev && a < static_cast<int64_t>(out_rank), n.context(),
                       " axes_mapping must be increasing and within the output rank");
            aligned[a] = data[i];
            prev = a;
        }
    } else {
        KILN_CHECK(data.size() <= out_rank, n.context(), " data rank exceeds the target rank");
        std::copy(data.begin(), data.end(), aligned.begin() + (out_rank - data.size()));
    }
    return aligned;
}

void infer_broadcast(ShapeContext& ctx) {
    const std::string mode = broadcast_mode(ctx.node());
    ctx.expect_inputs(mode == "explicit" ? 3 : 2, 3);
    check_index_type(ctx, 1);
    const PartialShape& in = ctx.input_shape(0);
    auto target = const_ints(ctx, 1);
    if (!target) {
        const PartialShape& ts = ctx.input_shape(1);
        if (ts.is_static() && ts.size() == 1 && mode != "bidirectional")
            ctx.set_output(0, ctx.input_type(0), PartialShape::dynamic(ts[0].get_length()));
        else
            ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    for (int64_t v : *target) ctx.check(v >= 0, "target shape has invalid value ", v);
    const PartialShape tshape = PartialShape(Shape(*target));
    if (mode == "bidirectional") {
        ctx.set_output(0, ctx.input_type(0), broadcast_partial(ctx, in, tshape));
        return;
    }
    if (in.is_static()) {
        std::optional<std::vector<int64_t>> mapping;
        if (mode == "explicit") {
            mapping = const_ints(ctx, 2);
            if (!mapping) {
                ctx.set_output(0, ctx.input_type(0), tshape);
                return;
            }
        }
        Shape aligned = broadcast_aligned(ctx.node(), in.to_shape(), target->size(),
                                          mapping ? &*mapping : nullptr);
        for (size_t i = 0; i < aligned.size(); ++i)
            ctx.check(aligned[i] == 1 || aligned[i] == (*target)[i], "cannot broadcast ",
                      to_string(in), " to ", to_string(Shape(*target)));
    }
    ctx.set_output(0, ctx.input_type(0), tshape);
}

void eval_broadcast(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& os = out[0].shape();
    const bool explicit_mode = broadcast_mode(n) == "explicit";
    std::vector<int64_t> mapping;
    if (explicit_mode) mapping = in[2].to_int_vector();
    const Shape is =
        broadcast_aligned(n, in[0].shape(), os.size(), explicit_mode ? &mapping : nullptr);
    auto map = build_map(is, os, [&](size_t d, int64_t p) { return is[d] == 1 ? 0 : p; });
    gather_by_map(in[0], out[0], map);
}

}  // namespace

void register_pad_ops(OpRegistry& r);
void register_strided_slice_ops(OpRegistry& r);

void register_layout_ops(OpRegistry& r) {
    r.add({"Transpose", "opset1", infer_transpose, eval_transpose});
    r.add({"Slice", "opset8", infer_slice, eval_slice});
    r.add({"Tile", "opset1", infer_tile, eval_tile});
    r.add({"Broadcast", "opset3", infer_broadcast, eval_broadcast});
    register_pad_ops(r);
    register_strided_slice_ops(r);
}

}  // namespace kiln::movement
