// Index-driven reads: Gather (v8), GatherElements (v6), GatherND (v8). Negative indices count
// from the end; anything else out of range throws.
#include "ops/movement/movement_utils.hpp"

namespace kiln::movement {
namespace {

int64_t fix_index(const Node& n, int64_t i, int64_t dim) {
    KILN_CHECK(i >= -dim && i < dim, n.context(), " index ", i, " is out of range for a dimension of ",
               dim);
    return i < 0 ? i + dim : i;
}

int64_t gather_batch_dims(const ShapeContext& ctx, int64_t indices_rank) {
    int64_t b = ctx.attrs().get_int("batch_dims", 0);
    if (b < 0) b += indices_rank;
    ctx.check(b >= 0 && b <= indices_rank, "batch_dims ", ctx.attrs().get_int("batch_dims", 0),
              " is out of range for indices of rank ", indices_rank);
    return b;
}

void infer_gather(ShapeContext& ctx) {
    ctx.expect_inputs(3);
    check_index_type(ctx, 1);
    check_index_type(ctx, 2);
    const PartialShape& data = ctx.input_shape(0);
    const PartialShape& idx = ctx.input_shape(1);
    auto axis = const_scalar(ctx, 2);
    if (!data.rank_is_static() || !idx.rank_is_static() || !axis) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    ctx.check(data.rank() >= 1, "cannot gather from a scalar");
    const int64_t ax = normalize_axis(ctx, *axis, data.rank());
    const int64_t b = gather_batch_dims(ctx, idx.rank());
    ctx.check(b <= ax, "batch_dims ", b, " must not exceed axis ", ax);
    std::vector<Dimension> out;
    for (int64_t i = 0; i < ax; ++i) {
        if (i < b) ctx.check(data[i].compatible(idx[i]), "batch dimensions of data ",
                             to_string(data), " and indices ", to_string(idx), " differ");
        out.push_back(data[i]);
    }
    for (int64_t i = b; i < idx.rank(); ++i) out.push_back(idx[i]);
    for (int64_t i = ax + 1; i < data.rank(); ++i) out.push_back(data[i]);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_gather(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& ds = in[0].shape();
    const Shape& is = in[1].shape();
    const int64_t ax = normalize_axis(n, in[2].to_int_vector().at(0), ds.size());
    int64_t b = n.attrs().get_int("batch_dims", 0);
    if (b < 0) b += static_cast<int64_t>(is.size());
    const std::vector<int64_t> idx = in[1].to_int_vector();
    const int64_t batch = product(ds, 0, b);
    const int64_t between = product(ds, b, ax);
    const int64_t dim = ds[ax];
    const int64_t inner = product(ds, ax + 1, ds.size());
    const int64_t per_batch = product(is, b, is.size());
    ElementCopier copier(in[0], out[0]);
    int64_t o = 0;
    for (int64_t bi = 0; bi < batch; ++bi)
        for (int64_t m = 0; m < between; ++m)
            for (int64_t k = 0; k < per_batch; ++k) {
                const int64_t i = fix_index(n, idx[bi * per_batch + k], dim);
                copier.copy(o, ((bi * between + m) * dim + i) * inner, inner);
                o += inner;
            }
}

void infer_gather_elements(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_index_type(ctx, 1);
    const PartialShape& data = ctx.input_shape(0);
    const PartialShape& idx = ctx.input_shape(1);
    if (data.rank_is_static() && idx.rank_is_static()) {
        ctx.check(data.rank() == idx.rank(), "data ", to_string(data), " and indices ",
                  to_string(idx), " must have the same rank");
        normalize_axis(ctx, ctx.attrs().get_int("axis", 0), data.rank());
    }
    ctx.set_output(0, ctx.input_type(0), idx);
}

void eval_gather_elements(const Node& n, const TensorVector& in, TensorVector& out,
                          ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& ds = in[0].shape();
    const Shape& is = in[1].shape();
    const int64_t ax = normalize_axis(n, n.attrs().get_int("axis", 0), ds.size());
    for (size_t d = 0; d < ds.size(); ++d)
        KILN_CHECK(static_cast<int64_t>(d) == ax || is[d] <= ds[d], n.context(), " indices ",
                   to_string(is), " exceed data ", to_string(ds), " outside the axis");
    const std::vector<int64_t> idx = in[1].to_int_vector();
    const auto strides = row_major_strides(ds);
    ElementCopier copier(in[0], out[0]);
    for_each_index(is, [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = 0;
        for (size_t d = 0; d < ds.size(); ++d) {
            const int64_t p = static_cast<int64_t>(d) == ax ? fix_index(n, idx[i], ds[d]) : pos[d];
            off += p * strides[d];
        }
        copier.copy(i, off);
    });
}

void infer_gather_nd(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_index_type(ctx, 1);
    const PartialShape& data = ctx.input_shape(0);
    const PartialShape& idx = ctx.input_shape(1);
    if (!data.rank_is_static() || !idx.rank_is_static() || idx.rank() < 1 ||
        idx[idx.rank() - 1].is_dynamic()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    const int64_t b = ctx.attrs().get_int("batch_dims", 0);
    const int64_t m = idx[idx.rank() - 1].get_length();
    ctx.check(b >= 0 && b < idx.rank() && b < data.rank(), "batch_dims ", b, " is out of range");
    ctx.check(b + m <= data.rank(), "indices tuples of length ", m, " exceed data rank ",
              data.rank());
    std::vector<Dimension> out;
    for (int64_t i = 0; i < idx.rank() - 1; ++i) {
        if (i < b) ctx.check(data[i].compatible(idx[i]), "batch dimensions differ");
        out.push_back(idx[i]);
    }
    for (int64_t i = b + m; i < data.rank(); ++i) out.push_back(data[i]);
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_gather_nd(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& ds = in[0].shape();
    const Shape& is = in[1].shape();
    const int64_t b = n.attrs().get_int("batch_dims", 0);
    const int64_t m = is.back();
    const int64_t batch = product(ds, 0, b);
    const int64_t data_per_batch = product(ds, b, ds.size());
    const int64_t tuples = product(is, b, is.size() - 1);
    const int64_t inner = product(ds, b + m, ds.size());
    const auto strides = row_major_strides(ds);
    const std::vector<int64_t> idx = in[1].to_int_vector();
    ElementCopier copier(in[0], out[0]);
    int64_t o = 0;
    for (int64_t bi = 0; bi < batch; ++bi)
        for (int64_t t = 0; t < tuples; ++t) {
            int64_t off = bi * data_per_batch;
            for (int64_t k = 0; k < m; ++k)
                off += fix_index(n, idx[(bi * tuples + t) * m + k], ds[b + k]) * strides[b + k];
            copier.copy(o, off, inner);
            o += inner;
        }
}

}  // namespace

void register_index_ops(OpRegistry& r) {
    r.add({"Gather", "opset8", infer_gather, eval_gather});
    r.add({"GatherElements", "opset6", infer_gather_elements, eval_gather_elements});
    r.add({"GatherND", "opset8", infer_gather_nd, eval_gather_nd});
}

}  // namespace kiln::movement
