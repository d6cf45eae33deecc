// Ops whose output extent depends on values: Range (v4), OneHot (v16 semantics), NonZero (v3),
// Unique (v10), Eye (v9), and Trilu (a Kiln op: OpenVINO has no triangular-mask op; it keeps the
// upper (upper=true) or lower triangle of the last two axes relative to diagonal k).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/movement/movement_utils.hpp"

namespace kiln::movement {
namespace {

ElementType type_attr(const ShapeContext& ctx, const char* name, const char* dflt) {
    return element_type_from_string(ctx.attrs().get_string(name, dflt));
}

// Reads a scalar input as double, refusing non-finite values where integers are wanted.
double scalar_double(const Node& n, const Tensor& t, const char* what) {
    KILN_CHECK(t.size() == 1, n.context(), " ", what, " must be a scalar");
    return t.value_as_double(0);
}

int64_t range_length(const Node& n, const Tensor& a, const Tensor& b, const Tensor& c,
                     ElementType out) {
    const double start = scalar_double(n, a, "start"), stop = scalar_double(n, b, "stop"),
                 step = scalar_double(n, c, "step");
    KILN_CHECK(std::isfinite(start) && std::isfinite(stop) && std::isfinite(step), n.context(),
               " start, stop and step must be finite");
    KILN_CHECK(step != 0, n.context(), " step must not be zero");
    double len;
    if (!is_float(out) && !is_float(a.element_type()) && !is_float(b.element_type()) &&
        !is_float(c.element_type())) {
        // Exact integer arithmetic.
        const __int128 s = a.value_as_int(0), e = b.value_as_int(0), d = c.value_as_int(0);
        const __int128 diff = e - s;
        __int128 l = d > 0 ? (diff + d - 1) / d : (diff + d + 1) / d;
        KILN_CHECK(l < (__int128{1} << 40), n.context(), " range is too long");
        return l > 0 ? static_cast<int64_t>(l) : 0;
    }
    len = std::ceil((stop - start) / step);
    KILN_CHECK(len < 1e12, n.context(), " range is too long");
    return len > 0 ? static_cast<int64_t>(len) : 0;
}

void infer_range(ShapeContext& ctx) {
    ctx.expect_inputs(3);
    const ElementType t = type_attr(ctx, "output_type", "i64");
    ctx.check(t != ElementType::string && t != ElementType::boolean, "invalid output_type");
    const Tensor* a = ctx.input_value(0);
    const Tensor* b = ctx.input_value(1);
    const Tensor* c = ctx.input_value(2);
    if (a && b && c)
        ctx.set_output(0, t, PartialShape({Dimension(range_length(ctx.node(), *a, *b, *c, t))}));
    else
        ctx.set_output(0, t, PartialShape::dynamic(1));
}

void eval_range(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const int64_t len = out[0].size();
    dispatch_numeric(out[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* o = out[0].data<T>();
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            using U = std::make_unsigned_t<T>;
            auto as_t = [&](const Tensor& t) {
                const double v = t.value_as_double(0);
                KILN_CHECK(v >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
                               v <= static_cast<double>(std::numeric_limits<T>::max()),
                           n.context(), " value ", v, " does not fit the output type");
                return is_float(t.element_type()) ? static_cast<T>(v)
                                                  : static_cast<T>(t.value_as_int(0));
            };
            const T start = as_t(in[0]), step = as_t(in[2]);
            U cur = static_cast<U>(start);
            for (int64_t i = 0; i < len; ++i, cur += static_cast<U>(step)) o[i] = static_cast<T>(cur);
        } else {
            const double start = in[0].value_as_double(0), step = in[2].value_as_double(0);
            for (int64_t i = 0; i < len; ++i) o[i] = static_cast<T>(start + static_cast<double>(i) * step);
        }
    });
}

// OneHot(indices, depth, on_value, off_value), axis attribute; negative_indices_mode
// "ignore_negative" (default: all off) or "normalize" (index + depth).
void infer_one_hot(ShapeContext& ctx) {
    ctx.expect_inputs(4);
    // Floating-point indices are accepted too (ONNX casts them to integers).
    ctx.check(ctx.input_type(0) != ElementType::string && ctx.input_type(0) != ElementType::boolean,
              "indices must be numeric");
    const PartialShape& in = ctx.input_shape(0);
    const ElementType t = ctx.input_type(2);
    ctx.check(ctx.input_type(3) == t || t == ElementType::dynamic ||
                  ctx.input_type(3) == ElementType::dynamic,
              "on_value and off_value types differ");
    if (!in.rank_is_static()) {
        ctx.set_output(0, t, PartialShape());
        return;
    }
    const int64_t axis = normalize_axis(ctx, ctx.attrs().get_int("axis", -1), in.rank() + 1);
    Dimension depth;
    if (const Tensor* d = ctx.input_value(1)) {
        ctx.check(d->size() == 1, "depth must be a scalar");
        const double v = d->value_as_double(0);
        ctx.check(std::isfinite(v) && v >= 0 && v < 1e12, "invalid depth ", v);
        depth = static_cast<int64_t>(v);
    }
    std::vector<Dimension> out = in.dims();
    out.insert(out.begin() + axis, depth);
    ctx.set_output(0, t, PartialShape(out));
}

void eval_one_hot(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& os = out[0].shape();
    const int64_t axis = normalize_axis(n, n.attrs().get_int("axis", -1), os.size());
    const int64_t depth = os[axis];
    const bool normalize = n.attrs().get_string("negative_indices_mode", "ignore_negative") == "normalize";
    std::vector<int64_t> idx;
    if (is_float(in[0].element_type())) {
        for (double v : in[0].to_double_vector()) {
            KILN_CHECK(std::isfinite(v) && std::fabs(v) < 9e18, n.context(), " invalid index ", v);
            idx.push_back(static_cast<int64_t>(v));
        }
    } else {
        idx = in[0].to_int_vector();
    }
    const int64_t outer = product(os, 0, axis), inner = product(os, axis + 1, os.size());
    ElementCopier on(in[2], out[0]), off(in[3], out[0]);
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t d = 0; d < depth; ++d)
            for (int64_t i = 0; i < inner; ++i) {
                int64_t v = idx[o * inner + i];
                if (v < 0 && normalize) v += depth;
                const int64_t dst = (o * depth + d) * inner + i;
                (v == d ? on : off).copy(dst, 0);
            }
}

std::vector<int64_t> nonzero_flags(const Tensor& t) {
    std::vector<int64_t> f(t.size());
    if (t.element_type() == ElementType::string) {
        for (int64_t i = 0; i < t.size(); ++i) f[i] = !t.data<std::string>()[i].empty();
        return f;
    }
    dispatch_numeric(t.element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* p = t.data<T>();
        for (int64_t i = 0; i < t.size(); ++i) {
            if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16>)
                f[i] = static_cast<float>(p[i]) != 0.0f;
            else
                f[i] = p[i] != T{};
        }
    });
    return f;
}

void infer_non_zero(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const ElementType t = type_attr(ctx, "output_type", "i64");
    ctx.check(t == ElementType::i32 || t == ElementType::i64, "output_type must be i32 or i64");
    const PartialShape& in = ctx.input_shape(0);
    Dimension rank = in.rank_is_static() ? Dimension(in.rank()) : Dimension::dynamic();
    Dimension count;
    if (const Tensor* v = ctx.input_value(0)) {
        auto f = nonzero_flags(*v);
        count = std::accumulate(f.begin(), f.end(), int64_t{0});
    }
    ctx.set_output(0, t, PartialShape({rank, count}));
}

void eval_non_zero(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const auto f = nonzero_flags(in[0]);
    const Shape& s = in[0].shape();
    const int64_t count = out[0].shape()[1];
    int64_t k = 0;
    dispatch_index(out[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* o = out[0].data<T>();
        for_each_index(s, [&](int64_t i, const std::vector<int64_t>& pos) {
            if (!f[i]) return;
            for (size_t d = 0; d < s.size(); ++d) o[d * count + k] = static_cast<T>(pos[d]);
            ++k;
        });
    });
}

void infer_eye(ShapeContext& ctx) {
    ctx.expect_inputs(3, 4);
    const ElementType t = type_attr(ctx, "output_type", "f32");
    std::vector<Dimension> out;
    if (ctx.input_count() == 4) {
        auto b = const_ints(ctx, 3);
        if (!b) {
            ctx.set_output(0, t, PartialShape());
            return;
        }
        for (int64_t v : *b) {
            ctx.check(v >= 0, "batch_shape has a negative value");
            out.emplace_back(v);
        }
    }
    for (size_t i = 0; i < 2; ++i) {
        auto v = const_scalar(ctx, i);
        if (v) ctx.check(*v >= 0, "num_rows / num_columns must not be negative");
        out.push_back(v ? Dimension(*v) : Dimension::dynamic());
    }
    ctx.set_output(0, t, PartialShape(out));
}

void eval_eye(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const Shape& s = out[0].shape();
    const int64_t rows = s[s.size() - 2], cols = s.back();
    const int64_t k = in[2].to_int_vector().at(0);
    const int64_t mats = product(s, 0, s.size() - 2);
    dispatch_numeric(out[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* o = out[0].data<T>();
        for (int64_t m = 0; m < mats; ++m)
            for (int64_t r = 0; r < rows; ++r) {
                if (k > cols || k < -rows) break;
                const int64_t c = r + k;
                if (c >= 0 && c < cols) o[(m * rows + r) * cols + c] = static_cast<T>(1);
            }
    });
}

void infer_trilu(ShapeContext& ctx) {
    ctx.expect_inputs(1, 2);
    const PartialShape& in = ctx.input_shape(0);
    ctx.check(!in.rank_is_static() || in.rank() >= 2, "needs rank >= 2");
    ctx.set_output(0, ctx.input_type(0), in);
}

void eval_trilu(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(n, in, out);
    const bool upper = n.attrs().get_bool("upper", true);
    const int64_t k = in.size() > 1 ? in[1].to_int_vector().at(0) : 0;
    const Shape& s = in[0].shape();
    const int64_t rows = s[s.size() - 2], cols = s.back();
    std::vector<int64_t> map(in[0].size());
    for (int64_t i = 0; i < static_cast<int64_t>(map.size()); ++i) {
        const int64_t c = i % cols, r = (i / cols) % rows;
        const bool keep = upper ? c - r >= k : c - r <= k;
        map[i] = keep ? i : -1;
    }
    Tensor zero(in[0].element_type(), {});
    gather_by_map(in[0], out[0], map, &zero);
}

}  // namespace

void register_unique_ops(OpRegistry& r);

void register_generate_ops(OpRegistry& r) {
    r.add({"Range", "opset4", infer_range, eval_range});
    r.add({"OneHot", "opset16", infer_one_hot, eval_one_hot});
    r.add({"NonZero", "opset3", infer_non_zero, eval_non_zero});
    r.add({"Eye", "opset9", infer_eye, eval_eye});
    r.add({"Trilu", "kiln1", infer_trilu, eval_trilu});
    register_unique_ops(r);
}

}  // namespace kiln::movement
