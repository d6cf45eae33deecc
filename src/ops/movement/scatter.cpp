// Index-driven writes: ScatterUpdate (v3), ScatterElementsUpdate (v12, with reductions),
// ScatterNDUpdate (v15, with reductions). Indices out of range throw; negative ones count from
// the end.
#include <cmath>

#include "ops/movement/movement_utils.hpp"

namespace kiln::movement {
namespace {

int64_t fix_index(const Node& n, int64_t i, int64_t dim) {
    KILN_CHECK(i >= -dim && i < dim, n.context(), " index ", i,
               " is out of range for a dimension of ", dim);
    return i < 0 ? i + dim : i;
}

enum class Reduction { none, sum, sub, prod, min, max, mean };

Reduction parse_reduction(const Node& n) {
    const std::string r = n.attrs().get_string("reduction", "none");
    if (r == "none") return Reduction::none;
    if (r == "sum") return Reduction::sum;
    if (r == "sub") return Reduction::sub;
    if (r == "prod") return Reduction::prod;
    if (r == "min") return Reduction::min;
    if (r == "max") return Reduction::max;
    if (r == "mean") return Reduction::mean;
    KILN_THROW(n.context(), " unknown reduction ", r);
}

// a (op) b without signed-overflow UB: integers wrap, booleans use logical or / and.
template <class T>
T combine(Reduction r, T a, T b) {
    if constexpr (std::is_same_v<T, bool>) {
        switch (r) {
            case Reduction::prod:
            case Reduction::min: return a && b;
            case Reduction::sub: return a && !b;
            default: return a || b;
        }
    } else if constexpr (std::is_integral_v<T>) {
        using U = std::make_unsigned_t<T>;
        switch (r) {
            case Reduction::sum:
            case Reduction::mean: return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
            case Reduction::sub: return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
            case Reduction::prod:
                if constexpr (sizeof(T) < sizeof(int)) return static_cast<T>(static_cast<unsigned>(a) * static_cast<unsigned>(b));
                else return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
            case Reduction::min: return std::min(a, b);
            case Reduction::max: return std::max(a, b);
            default: return b;
        }
    } else {
        switch (r) {
            case Reduction::sum:
            case Reduction::mean: return static_cast<T>(a + b);
            case Reduction::sub: return static_cast<T>(a - b);
            case Reduction::prod: return static_cast<T>(a * b);
            case Reduction::min: return static_cast<double>(b) < static_cast<double>(a) ? b : a;
            case Reduction::max: return static_cast<double>(b) > static_cast<double>(a) ? b : a;
            default: return b;
        }
    }
}

// Applies writes (dst_offset, src_offset, count) from `updates` into `out` (a copy of data).
class Writer {
public:
    Writer(const Node& n, const Tensor& updates, Tensor& out)
        : updates_(updates), out_(out), red_(parse_reduction(n)),
          use_init_(n.attrs().get_bool("use_init_val", true)), copier_(updates, out) {
        if (red_ != Reduction::none) {
            KILN_CHECK(out.element_type() != ElementType::string, n.context(),
                       " reductions are not defined for strings");
            touched_.assign(out.size(), 0);
        }
    }
    void write(int64_t dst, int64_t src, int64_t count) {
        if (red_ == Reduction::none) {
            copier_.copy(dst, src, count);
            return;
        }
        dispatch_numeric(out_.element_type(), [&](auto tag) {
            using T = KILN_TYPE_OF(tag);
            T* o = out_.data<T>();
            const T* u = updates_.data<T>();
            for (int64_t i = 0; i < count; ++i) {
                int64_t& t = touched_[dst + i];
                o[dst + i] = !use_init_ && t == 0 ? u[src + i] : combine(red_, o[dst + i], u[src + i]);
                ++t;
            }
        });
    }
    void finish() {
        if (red_ != Reduction::mean) return;
        dispatch_numeric(out_.element_type(), [&](auto tag) {
            using T = KILN_TYPE_OF(tag);
            if constexpr (!std::is_same_v<T, bool>) {
                T* o = out_.data<T>();
                for (size_t i = 0; i < touched_.size(); ++i) {
                    if (touched_[i] == 0) continue;
                    const int64_t c = touched_[i] + (use_init_ ? 1 : 0);
                    if constexpr (std::is_integral_v<T>)
                        o[i] = static_cast<T>(std::floor(static_cast<double>(o[i]) / static_cast<double>(c)));
                    else
                        o[i] = static_cast<T>(static_cast<double>(o[i]) / static_cast<double>(c));
                }
            }
        });
    }

private:
    const Tensor& updates_;
    Tensor& out_;
    Reduction red_;
    bool use_init_;
    ElementCopier copier_;
    std::vector<int64_t> touched_;
};

void check_updates_type(ShapeContext& ctx, size_t i) {
    ctx.check(ctx.input_type(i) == ctx.input_type(0) || ctx.input_type(i) == ElementType::dynamic ||
                  ctx.input_type(0) == ElementType::dynamic,
              "updates type ", to_string(ctx.input_type(i)), " differs from data type ",
              to_string(ctx.input_type(0)));
}

void infer_scatter_update(ShapeContext& ctx) {
    ctx.expect_inputs(4);
    check_index_type(ctx, 1);
    check_index_type(ctx, 3);
    check_updates_type(ctx, 2);
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
}

void eval_scatter_update(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    out.assign(1, in[0].clone());
    const Shape& ds = in[0].shape();
    KILN_CHECK(!ds.empty(), n.context(), " data must not be a scalar");
    const int64_t ax = normalize_axis(n, in[3].to_int_vector().at(0), ds.size());
    const auto idx = in[1].to_int_vector();
    const int64_t outer = product(ds, 0, ax);
    const int64_t inner = product(ds, ax + 1, ds.size());
    const int64_t k = static_cast<int64_t>(idx.size());
    Shape expect(ds.begin(), ds.begin() + ax);
    expect.insert(expect.end(), in[1].shape().begin(), in[1].shape().end());
    expect.insert(expect.end(), ds.begin() + ax + 1, ds.end());
    KILN_CHECK(in[2].shape() == expect, n.context(), " updates have shape ", to_string(in[2].shape()),
               ", expected ", to_string(expect));
    Writer w(n, in[2], out[0]);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < k; ++j)
            w.write((o * ds[ax] + fix_index(n, idx[j], ds[ax])) * inner, (o * k + j) * inner, inner);
}

void infer_scatter_elements(ShapeContext& ctx) {
    ctx.expect_inputs(4);
    check_index_type(ctx, 1);
    check_index_type(ctx, 3);
    check_updates_type(ctx, 2);
    parse_reduction(ctx.node());
    const PartialShape& d = ctx.input_shape(0);
    const PartialShape& i = ctx.input_shape(1);
    const PartialShape& u = ctx.input_shape(2);
    if (d.rank_is_static() && i.rank_is_static())
        ctx.check(d.rank() == i.rank(), "data and indices must have the same rank");
    if (u.rank_is_static() && i.rank_is_static())
        ctx.check(u.compatible(i), "indices ", to_string(i), " and updates ", to_string(u),
                  " must have the same shape");
    ctx.set_output(0, ctx.input_type(0), d);
}

void eval_scatter_elements(const Node& n, const TensorVector& in, TensorVector& out,
                           ExecContext&) {
    out.assign(1, in[0].clone());
    const Shape& ds = in[0].shape();
    const Shape& is = in[1].shape();
    KILN_CHECK(is == in[2].shape() && is.size() == ds.size(), n.context(), " indices ",
               to_string(is), ", updates ", to_string(in[2].shape()), " and data ", to_string(ds),
               " do not match");
    const int64_t ax = normalize_axis(n, in[3].to_int_vector().at(0), ds.size());
    for (size_t d = 0; d < ds.size(); ++d)
        KILN_CHECK(static_cast<int64_t>(d) == ax || is[d] <= ds[d], n.context(), " indices ",
                   to_string(is), " exceed data ", to_string(ds));
    const auto idx = in[1].to_int_vector();
    const auto strides = row_major_strides(ds);
    Writer w(n, in[2], out[0]);
    for_each_index(is, [&](int64_t i, const std::vector<int64_t>& pos) {
        int64_t off = 0;
        for (size_t d = 0; d < ds.size(); ++d)
            off += (static_cast<int64_t>(d) == ax ? fix_index(n, idx[i], ds[d]) : pos[d]) * strides[d];
        w.write(off, i, 1);
    });
    w.finish();
}

void infer_scatter_nd(ShapeContext& ctx) {
    ctx.expect_inputs(3);
    check_index_type(ctx, 1);
    check_updates_type(ctx, 2);
    parse_reduction(ctx.node());
    const PartialShape& d = ctx.input_shape(0);
    const PartialShape& i = ctx.input_shape(1);
    if (d.rank_is_static() && i.rank_is_static()) {
        ctx.check(i.rank() >= 1, "indices must have rank >= 1");
        const Dimension m = i[i.rank() - 1];
        ctx.check(m.is_dynamic() || m.get_length() <= d.rank(), "index tuples of length ",
                  m.get_length(), " exceed data rank ", d.rank());
    }
    ctx.set_output(0, ctx.input_type(0), d);
}

void eval_scatter_nd(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    out.assign(1, in[0].clone());
    const Shape& ds = in[0].shape();
    const Shape& is = in[1].shape();
    KILN_CHECK(!is.empty(), n.context(), " indices must have rank >= 1");
    const int64_t m = is.back();
    KILN_CHECK(m <= static_cast<int64_t>(ds.size()), n.context(), " index tuples are too long");
    Shape expect(is.begin(), is.end() - 1);
    expect.insert(expect.end(), ds.begin() + m, ds.end());
    KILN_CHECK(in[2].shape() == expect, n.context(), " updates have shape ",
               to_string(in[2].shape()), ", expected ", to_string(expect));
    const int64_t tuples = product(is, 0, is.size() - 1);
    const int64_t inner = product(ds, m, ds.size());
    const auto strides = row_major_strides(ds);
    const auto idx = in[1].to_int_vector();
    Writer w(n, in[2], out[0]);
    for (int64_t t = 0; t < tuples; ++t) {
        int64_t off = 0;
        for (int64_t k = 0; k < m; ++k) off += fix_index(n, idx[t * m + k], ds[k]) * strides[k];
        w.write(off, t * inner, inner);
    }
    w.finish();
}

}  // namespace

void register_scatter_ops(OpRegistry& r) {
    r.add({"ScatterUpdate", "opset3", infer_scatter_update, eval_scatter_update});
    r.add({"ScatterElementsUpdate", "opset12", infer_scatter_elements, eval_scatter_elements});
    r.add({"ScatterNDUpdate", "opset15", infer_scatter_nd, eval_scatter_nd});
}

}  // namespace kiln::movement
