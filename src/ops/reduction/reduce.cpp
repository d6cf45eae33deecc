// OpenVINO reductions (ReduceSum/Mean/Max/Min/Prod/L1/L2 and ReduceLogicalAnd/Or): data plus an
// axes input, keep_dims attribute. Empty axes reduce nothing (OpenVINO semantics). Also the Kiln
// ops ArgMax/ArgMin (ONNX semantics, see below).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/reduction/reduction_utils.hpp"

namespace kiln {

std::vector<int64_t> normalize_axes(const Node& node, const std::vector<int64_t>& axes,
                                    int64_t rank) {
    std::vector<int64_t> out;
    for (int64_t a : axes) {
        KILN_CHECK(a >= -rank && a < rank, node.context(), " axis ", a,
                   " is out of range for rank ", rank);
        out.push_back(a < 0 ? a + rank : a);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Shape reduced_shape(const Shape& in, const std::vector<int64_t>& axes, bool keep_dims) {
    Shape out;
    for (size_t d = 0; d < in.size(); ++d) {
        const bool r = std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) != axes.end();
        if (!r) out.push_back(in[d]);
        else if (keep_dims) out.push_back(1);
    }
    return out;
}

std::vector<int64_t> reduce_out_offsets(const Shape& in, const std::vector<int64_t>& axes) {
    Shape kept = reduced_shape(in, axes, true);
    auto ks = row_major_strides(kept);
    std::vector<int64_t> stride(in.size(), 0);
    for (size_t d = 0; d < in.size(); ++d) stride[d] = kept[d] == in[d] ? ks[d] : 0;
    std::vector<int64_t> offs(static_cast<size_t>(shape_size(in)));
    std::vector<int64_t> idx(in.size(), 0);
    int64_t off = 0;
    for (size_t i = 0; i < offs.size(); ++i) {
        offs[i] = off;
        for (int64_t d = static_cast<int64_t>(in.size()) - 1; d >= 0; --d) {
            if (++idx[d] < in[d]) {
                off += stride[d];
                break;
            }
            off -= stride[d] * (in[d] - 1);
            idx[d] = 0;
        }
    }
    return offs;
}

namespace {

enum class Kind { sum, mean, max, min, prod, l1, l2, land, lor };

template <Kind K>
void infer_reduce(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    const ElementType t = ctx.input_type(0);
    if constexpr (K == Kind::land || K == Kind::lor) {
        ctx.check(t == ElementType::boolean || t == ElementType::dynamic,
                  "expects a boolean input, got ", to_string(t));
    } else {
        ctx.check(t != ElementType::boolean && t != ElementType::string,
                  "does not support element type ", to_string(t));
    }
    ctx.check(ctx.input_type(1) == ElementType::dynamic || is_integral(ctx.input_type(1)),
              "axes must be integers");
    const PartialShape& axes_shape = ctx.input_shape(1);
    ctx.check(!axes_shape.rank_is_static() || axes_shape.rank() <= 1, "axes must be 0-D or 1-D");
    const bool keep = ctx.attrs().get_bool("keep_dims", false);
    const PartialShape& in = ctx.input_shape(0);
    auto axes = const_ints(ctx, 1);
    if (!in.rank_is_static()) {
        ctx.set_output(0, t, PartialShape());
        return;
    }
    const int64_t rank = in.rank();
    if (!axes) {
        ctx.set_output(0, t, keep ? PartialShape::dynamic(rank) : PartialShape());
        return;
    }
    auto norm = normalize_axes(ctx.node(), *axes, rank);
    std::vector<Dimension> out;
    for (int64_t d = 0; d < rank; ++d) {
        const bool r = std::binary_search(norm.begin(), norm.end(), d);
        if (!r) out.push_back(in[d]);
        else if (keep) out.push_back(1);
    }
    ctx.set_output(0, t, PartialShape(out));
}

// Integer sums and products wrap (two's complement) rather than overflow.
template <class T>
T wrap_add(T a, T b) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        using U = std::make_unsigned_t<T>;
        return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
    } else {
        return a + b;
    }
}
template <class T>
T wrap_mul(T a, T b) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        using U = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;
        return static_cast<T>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
    } else {
        return a * b;
    }
}

template <class T>
T from_double(double v) {
    if constexpr (std::is_integral_v<T>) {
        if (std::isnan(v)) return T(0);
        const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
        const double hi = static_cast<double>(std::numeric_limits<T>::max());
        if (v <= lo) return std::numeric_limits<T>::lowest();
        if (v >= hi) return std::numeric_limits<T>::max();
        return static_cast<T>(v);
    } else {
        return static_cast<T>(static_cast<float>(v));
    }
}

template <Kind K, class T>
void reduce_typed(const Tensor& in, const std::vector<int64_t>& axes, Tensor& out) {
    // Floating types accumulate in double, integers in their own type.
    using Acc = std::conditional_t<std::is_same_v<T, bool>, uint8_t,
                                   std::conditional_t<std::is_integral_v<T>, T, double>>;
    const int64_t n_out = out.size();
    const int64_t n_in = in.size();
    const int64_t count = n_out ? n_in / n_out : 0;
    std::vector<Acc> acc(static_cast<size_t>(n_out));
    Acc init{};
    if constexpr (K == Kind::prod || K == Kind::land) init = Acc(1);
    if constexpr (K == Kind::max) {
        if constexpr (std::is_integral_v<Acc>) init = std::numeric_limits<Acc>::lowest();
        else init = -std::numeric_limits<double>::infinity();
    }
    if constexpr (K == Kind::min) {
        if constexpr (std::is_integral_v<Acc>) init = std::numeric_limits<Acc>::max();
        else init = std::numeric_limits<double>::infinity();
    }
    std::fill(acc.begin(), acc.end(), init);
    const T* src = in.data<T>();
    auto offs = reduce_out_offsets(in.shape(), axes);
    for (int64_t i = 0; i < n_in; ++i) {
        Acc& a = acc[static_cast<size_t>(offs[static_cast<size_t>(i)])];
        const Acc v = static_cast<Acc>(src[i]);
        if constexpr (K == Kind::sum || K == Kind::mean) a = wrap_add(a, v);
        else if constexpr (K == Kind::prod) a = wrap_mul(a, v);
        else if constexpr (K == Kind::max) a = (v > a || std::isnan(static_cast<double>(v))) ? v : a;
        else if constexpr (K == Kind::min) a = (v < a || std::isnan(static_cast<double>(v))) ? v : a;
        else if constexpr (K == Kind::l1) {
            if constexpr (std::is_signed_v<Acc> && std::is_integral_v<Acc>)
                a = wrap_add(a, v < 0 ? wrap_mul(v, Acc(-1)) : v);
            else a = wrap_add(a, static_cast<Acc>(std::abs(static_cast<double>(v))));
        } else if constexpr (K == Kind::l2) a = wrap_add(a, wrap_mul(v, v));
        else if constexpr (K == Kind::land) a = a && v;
        else if constexpr (K == Kind::lor) a = a || v;
    }
    T* dst = out.data<T>();
    for (int64_t o = 0; o < n_out; ++o) {
        Acc a = acc[static_cast<size_t>(o)];
        if constexpr (K == Kind::mean) {
            if constexpr (std::is_integral_v<Acc>) {
                // Divide in 64 bits: the count may not fit in Acc.
                using W = std::conditional_t<std::is_signed_v<Acc>, int64_t, uint64_t>;
                a = count ? static_cast<Acc>(static_cast<W>(a) / static_cast<W>(count)) : Acc(0);
            }
            else a = a / static_cast<double>(count);
        }
        if constexpr (K == Kind::l2) {
            dst[o] = from_double<T>(std::sqrt(static_cast<double>(a)));
        } else if constexpr (std::is_integral_v<T>) {
            dst[o] = static_cast<T>(a);
        } else {
            dst[o] = from_double<T>(a);
        }
    }
}

template <Kind K>
void eval_reduce(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    auto axes = normalize_axes(node, in[1].to_int_vector(), in[0].rank());
    if constexpr (K == Kind::land || K == Kind::lor) {
        reduce_typed<K, bool>(in[0], axes, out[0]);
    } else {
        dispatch_numeric(in[0].element_type(), [&](auto tag) {
            using T = KILN_TYPE_OF(tag);
            if constexpr (!std::is_same_v<T, bool>) reduce_typed<K, T>(in[0], axes, out[0]);
        });
    }
}

}  // namespace

void register_reduce(OpRegistry& r) {
    r.add({"ReduceSum", "opset1", infer_reduce<Kind::sum>, eval_reduce<Kind::sum>});
    r.add({"ReduceMean", "opset1", infer_reduce<Kind::mean>, eval_reduce<Kind::mean>});
    r.add({"ReduceMax", "opset1", infer_reduce<Kind::max>, eval_reduce<Kind::max>});
    r.add({"ReduceMin", "opset1", infer_reduce<Kind::min>, eval_reduce<Kind::min>});
    r.add({"ReduceProd", "opset1", infer_reduce<Kind::prod>, eval_reduce<Kind::prod>});
    r.add({"ReduceL1", "opset4", infer_reduce<Kind::l1>, eval_reduce<Kind::l1>});
    r.add({"ReduceL2", "opset4", infer_reduce<Kind::l2>, eval_reduce<Kind::l2>});
    r.add({"ReduceLogicalAnd", "opset1", infer_reduce<Kind::land>, eval_reduce<Kind::land>});
    r.add({"ReduceLogicalOr", "opset1", infer_reduce<Kind::lor>, eval_reduce<Kind::lor>});
}

}  // namespace kiln
