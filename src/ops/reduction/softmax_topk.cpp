// Ops that work along one axis: Softmax (v8), LogSoftmax (v5), TopK (v11), CumSum (v3), and the
// Kiln ops Hardmax (ONNX-13 semantics: 1 at the first maximum along `axis`, 0 elsewhere) and
// ArgMax/ArgMin (ONNX semantics: i64 index of the first - or last with select_last_index -
// extreme value along `axis`, keep_dims keeps the axis with extent 1).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/reduction/reduction_utils.hpp"

namespace kiln {
namespace {

void infer_same_float(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const ElementType t = ctx.input_type(0);
    ctx.check(t == ElementType::dynamic || is_float(t), "expects floating-point input, got ",
              to_string(t));
    const PartialShape& s = ctx.input_shape(0);
    if (s.rank_is_static()) normalize_axis(ctx, ctx.attrs().get_int("axis", 1), s.rank());
    ctx.set_output(0, ctx.input_type(0), s);
}

enum class SoftKind { softmax, log_softmax, hardmax };

template <SoftKind K>
void eval_softmax(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const int64_t axis = normalize_axis(node, node.attrs().get_int("axis", 1), in[0].rank());
    const AxisSplit s = split_at_axis(in[0].shape(), axis);
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (std::is_same_v<T, bool>) {
            KILN_THROW(node.context(), " does not support boolean input");
        } else {
            const T* x = in[0].data<T>();
            T* y = out[0].data<T>();
            for (int64_t o = 0; o < s.outer; ++o) {
                for (int64_t i = 0; i < s.inner; ++i) {
                    const int64_t base = o * s.n * s.inner + i;
                    auto at = [&](int64_t k) { return base + k * s.inner; };
                    if (s.n == 0) continue;
                    int64_t arg = 0;
                    double mx = static_cast<double>(x[at(0)]);
                    for (int64_t k = 1; k < s.n; ++k) {
                        const double v = static_cast<double>(x[at(k)]);
                        if (v > mx) {
                            mx = v;
                            arg = k;
                        }
                    }
                    if constexpr (K == SoftKind::hardmax) {
                        for (int64_t k = 0; k < s.n; ++k)
                            y[at(k)] = static_cast<T>(k == arg ? 1 : 0);
                        continue;
                    } else {
                        double sum = 0;
                        for (int64_t k = 0; k < s.n; ++k)
                            sum += std::exp(static_cast<double>(x[at(k)]) - mx);
                        for (int64_t k = 0; k < s.n; ++k) {
                            const double d = static_cast<double>(x[at(k)]) - mx;
                            const double r =
                                K == SoftKind::softmax ? std::exp(d) / sum : d - std::log(sum);
                            y[at(k)] = from_f64<T>(r);
                        }
                    }
                }
            }
        }
    });
}

void infer_arg(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const PartialShape& s = ctx.input_shape(0);
    if (!s.rank_is_static()) {
        ctx.set_output(0, ElementType::i64, PartialShape());
        return;
    }
    const int64_t axis = normalize_axis(ctx, ctx.attrs().get_int("axis", 0), s.rank());
    const bool keep = ctx.attrs().get_bool("keep_dims", true);
    std::vector<Dimension> d;
    for (int64_t i = 0; i < s.rank(); ++i) {
        if (i != axis)
            d.push_back(s[i]);
        else if (keep)
            d.push_back(1);
    }
    ctx.set_output(0, ElementType::i64, PartialShape(d));
}

template <bool Max>
void eval_arg(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const int64_t axis = normalize_axis(node, node.attrs().get_int("axis", 0), in[0].rank());
    const bool last = node.attrs().get_bool("select_last_index", false);
    const AxisSplit s = split_at_axis(in[0].shape(), axis);
    KILN_CHECK(s.n > 0 || out[0].size() == 0, node.context(), " cannot reduce an empty axis");
    int64_t* y = out[0].data<int64_t>();
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        for (int64_t o = 0; o < s.outer; ++o) {
            for (int64_t i = 0; i < s.inner; ++i) {
                const int64_t base = o * s.n * s.inner + i;
                int64_t arg = 0;
                for (int64_t k = 1; k < s.n; ++k) {
                    const T v = x[base + k * s.inner], b = x[base + arg * s.inner];
                    const bool better = Max ? (last ? !(v < b) : v > b) : (last ? !(v > b) : v < b);
                    if (better) arg = k;
                }
                y[o * s.inner + i] = arg;
            }
        }
    });
}

// TopK v11: data, k (scalar) -> values, indices; axis, mode max|min, sort value|index|none,
// index_element_type i32|i64. Ties keep the lower index first (always stable).
void infer_topk(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    const PartialShape& s = ctx.input_shape(0);
    const std::string mode = ctx.attrs().get_string("mode", "max");
    ctx.check(mode == "max" || mode == "min", "mode must be max or min, got ", mode);
    const std::string sort = ctx.attrs().get_string("sort", "none");
    ctx.check(sort == "value" || sort == "index" || sort == "none", "bad sort mode ", sort);
    const ElementType it =
        element_type_from_string(ctx.attrs().get_string("index_element_type", "i32"));
    ctx.check(it == ElementType::i32 || it == ElementType::i64,
              "index_element_type must be i32/i64");
    const PartialShape& ks = ctx.input_shape(1);
    ctx.check(!ks.rank_is_static() || ks.is_dynamic() || shape_size(ks.to_shape()) == 1,
              "k must hold a single value");
    if (!s.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        ctx.set_output(1, it, PartialShape());
        return;
    }
    const int64_t axis = normalize_axis(ctx, ctx.attrs().get_int("axis"), s.rank());
    PartialShape o = s;
    if (auto k = const_ints(ctx, 1)) {
        ctx.check(!k->empty() && (*k)[0] >= 0, "k must be non-negative");
        const int64_t kv = (*k)[0];
        if (s[axis].is_static()) {
            ctx.check(kv <= s[axis].get_length(), "k = ", kv, " exceeds the axis extent ",
                      s[axis].get_length());
        }
        o[axis] = kv;
    } else {
        o[axis] = Dimension::dynamic();
    }
    ctx.set_output(0, ctx.input_type(0), o);
    ctx.set_output(1, it, o);
}

void eval_topk(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const int64_t axis = normalize_axis(node, node.attrs().get_int("axis"), in[0].rank());
    const bool is_max = node.attrs().get_string("mode", "max") == "max";
    const std::string sort = node.attrs().get_string("sort", "none");
    const AxisSplit s = split_at_axis(in[0].shape(), axis);
    const int64_t k = in[1].value_as_int(0);
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        T* vals = out[0].data<T>();
        std::vector<int64_t> idx(static_cast<size_t>(s.n));
        for (int64_t o = 0; o < s.outer; ++o) {
            for (int64_t i = 0; i < s.inner; ++i) {
                const int64_t base = o * s.n * s.inner + i;
                std::iota(idx.begin(), idx.end(), 0);
                std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
                    const T va = x[base + a * s.inner], vb = x[base + b * s.inner];
                    if constexpr (!std::is_integral_v<T>) {
                        // NaN ranks above every number (first for max, last for min).
                        const bool na = std::isnan(static_cast<float>(va));
                        const bool nb = std::isnan(static_cast<float>(vb));
                        if (na || nb) return is_max ? (na && !nb) : (!na && nb);
                    }
                    return is_max ? vb < va : va < vb;
                });
                if (sort == "index" || sort == "none") std::sort(idx.begin(), idx.begin() + k);
                const int64_t obase = o * k * s.inner + i;
                dispatch_index(out[1].element_type(), [&](auto itag) {
                    using I = KILN_TYPE_OF(itag);
                    I* ind = out[1].data<I>();
                    for (int64_t j = 0; j < k; ++j) {
                        vals[obase + j * s.inner] = x[base + idx[static_cast<size_t>(j)] * s.inner];
                        ind[obase + j * s.inner] = static_cast<I>(idx[static_cast<size_t>(j)]);
                    }
                });
            }
        }
    });
}

// CumSum v3: data, axis (scalar, optional: 0) with exclusive / reverse attributes.
void infer_cumsum(ShapeContext& ctx) {
    ctx.expect_inputs(1, 2);
    const PartialShape& s = ctx.input_shape(0);
    if (ctx.input_count() == 2 && s.rank_is_static()) {
        if (auto a = const_ints(ctx, 1)) {
            ctx.check(a->size() == 1, "axis must be a single value");
            normalize_axis(ctx, (*a)[0], s.rank());
        }
    }
    ctx.set_output(0, ctx.input_type(0), s);
}

void eval_cumsum(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    KILN_CHECK(in.size() < 2 || in[1].size() == 1, node.context(), " axis must be one value");
    const int64_t a = in.size() > 1 ? in[1].value_as_int(0) : 0;
    const int64_t axis = normalize_axis(node, a, in[0].rank());
    const bool excl = node.attrs().get_bool("exclusive", false);
    const bool rev = node.attrs().get_bool("reverse", false);
    const AxisSplit s = split_at_axis(in[0].shape(), axis);
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        using Acc = std::conditional_t<std::is_integral_v<T>, uint64_t, double>;
        const T* x = in[0].data<T>();
        T* y = out[0].data<T>();
        for (int64_t o = 0; o < s.outer; ++o) {
            for (int64_t i = 0; i < s.inner; ++i) {
                Acc acc = 0;
                for (int64_t j = 0; j < s.n; ++j) {
                    const int64_t k = rev ? s.n - 1 - j : j;
                    const int64_t off = (o * s.n + k) * s.inner + i;
                    const Acc v = static_cast<Acc>(x[off]);
                    if (excl) {
                        y[off] = static_cast<T>(acc);
                        acc += v;
                    } else {
                        acc += v;
                        y[off] = static_cast<T>(acc);
                    }
                }
            }
        }
    });
}

}  // namespace

void register_softmax_topk(OpRegistry& r) {
    r.add({"Softmax", "opset8", infer_same_float, eval_softmax<SoftKind::softmax>});
    r.add({"LogSoftmax", "opset5", infer_same_float, eval_softmax<SoftKind::log_softmax>});
    r.add({"Hardmax", "kiln1", infer_same_float, eval_softmax<SoftKind::hardmax>});
    r.add({"ArgMax", "kiln1", infer_arg, eval_arg<true>});
    r.add({"ArgMin", "kiln1", infer_arg, eval_arg<false>});
    r.add({"TopK", "opset11", infer_topk, eval_topk});
    r.add({"CumSum", "opset3", infer_cumsum, eval_cumsum});
}

}  // namespace kiln
