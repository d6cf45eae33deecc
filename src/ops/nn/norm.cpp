// Normalization ops: BatchNormInference (opset5), MVN (opset6) and LRN (opset1).
#include <algorithm>
#include <cmath>
#include <set>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

void check_float_input(const ShapeContext& ctx, size_t i) {
    const ElementType t = ctx.input_type(i);
    ctx.check(is_float(t) || t == ElementType::dynamic, "input ", i,
              " must be floating-point, got ", to_string(t));
}

// Inputs: data [N, C, ...], gamma, beta, mean, variance (each [C]).
void infer_batch_norm(ShapeContext& ctx) {
    ctx.expect_inputs(5);
    for (size_t i = 0; i < 5; ++i) check_float_input(ctx, i);
    const PartialShape& data = ctx.input_shape(0);
    ctx.check(!data.rank_is_static() || data.size() >= 2, "data must have rank >= 2, got ",
              to_string(data));
    Dimension channels = data.rank_is_static() ? data[1] : Dimension::dynamic();
    for (size_t i = 1; i < 5; ++i) {
        const PartialShape& s = ctx.input_shape(i);
        if (!s.rank_is_static()) continue;
        ctx.check(s.size() == 1 && s[0].compatible(channels), "input ", i, " ", to_string(s),
                  " must be 1-D with one value per channel of ", to_string(data));
        if (channels.is_dynamic()) channels = s[0];
    }
    ctx.check(ctx.attrs().get_float("epsilon", 0.0) >= 0, "epsilon must be >= 0");
    ctx.set_output(0, ctx.input_type(0), data);
}

void eval_batch_norm(const Node& node, const TensorVector& in, TensorVector& out,
                     ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& s = in[0].shape();
    const int64_t channels = s[1];
    const int64_t inner = shape_size(Shape(s.begin() + 2, s.end()));
    const double eps = node.attrs().get_float("epsilon", 0.0);
    std::vector<double> scale(channels), shift(channels);
    for (int64_t c = 0; c < channels; ++c) {
        const double g = in[1].value_as_double(c), b = in[2].value_as_double(c);
        const double m = in[3].value_as_double(c), v = in[4].value_as_double(c);
        scale[c] = g / std::sqrt(v + eps);
        shift[c] = b - m * scale[c];
    }
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        T* y = out[0].data<T>();
        const int64_t total = in[0].size();
        for (int64_t i = 0; i < total; ++i) {
            const int64_t c = (i / inner) % channels;
            y[i] = float_from_double<T>(as_double(x[i]) * scale[c] + shift[c]);
        }
    });
}

// Sorted, normalized, unique axes from an integer tensor.
std::vector<int64_t> read_axes(const Node& node, const std::vector<int64_t>& raw, int64_t rank) {
    std::set<int64_t> s;
    for (int64_t a : raw) {
        const int64_t n = normalize_axis(node, a, rank);
        node_check(node, s.insert(n).second, "axes contain a duplicate: ", a);
    }
    return std::vector<int64_t>(s.begin(), s.end());
}

// Inputs: data, axes (1-D integer).
void infer_mvn(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_float_input(ctx, 0);
    ctx.check(is_integral(ctx.input_type(1)) || ctx.input_type(1) == ElementType::dynamic,
              "axes must be an integer tensor");
    const std::string mode = ctx.attrs().get_string("eps_mode", "inside_sqrt");
    ctx.check(mode == "inside_sqrt" || mode == "outside_sqrt" || mode == "INSIDE_SQRT" ||
                  mode == "OUTSIDE_SQRT",
              "unknown eps_mode '", mode, "'");
    const PartialShape& data = ctx.input_shape(0);
    if (auto axes = const_ints(ctx, 1); axes && data.rank_is_static())
        read_axes(ctx.node(), *axes, data.rank());
    ctx.set_output(0, ctx.input_type(0), data);
}

void eval_mvn(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& s = in[0].shape();
    const auto axes = read_axes(node, in[1].to_int_vector(), static_cast<int64_t>(s.size()));
    Shape kept = s;
    int64_t count = 1;
    for (int64_t a : axes) {
        count *= s[a];
        kept[a] = 1;
    }
    const bool normalize = node.attrs().get_bool("normalize_variance", true);
    const double eps = node.attrs().get_float("eps", 1e-9);
    const std::string mode = node.attrs().get_string("eps_mode", "inside_sqrt");
    const bool inside = mode == "inside_sqrt" || mode == "INSIDE_SQRT";
    if (in[0].size() == 0) return;
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        T* y = out[0].data<T>();
        std::vector<double> mean(shape_size(kept), 0.0), var(shape_size(kept), 0.0);
        for_each_broadcast<1>(s, {kept}, [&](int64_t i, const auto& off) {
            mean[off[0]] += as_double(x[i]);
        });
        for (double& m : mean) m /= static_cast<double>(count);
        for_each_broadcast<1>(s, {kept}, [&](int64_t i, const auto& off) {
            const double d = as_double(x[i]) - mean[off[0]];
            var[off[0]] += d * d;
        });
        for (double& v : var) {
            v /= static_cast<double>(count);
            v = inside ? std::sqrt(v + eps) : std::sqrt(v) + eps;
        }
        for_each_broadcast<1>(s, {kept}, [&](int64_t i, const auto& off) {
            const double d = as_double(x[i]) - mean[off[0]];
            y[i] = float_from_double<T>(normalize ? d / var[off[0]] : d);
        });
    });
}

// Inputs: data, axes (1-D integer).
void infer_lrn(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    check_float_input(ctx, 0);
    ctx.check(is_integral(ctx.input_type(1)) || ctx.input_type(1) == ElementType::dynamic,
              "axes must be an integer tensor");
    ctx.check(ctx.attrs().get_int("size", 1) > 0, "size must be positive");
    const PartialShape& data = ctx.input_shape(0);
    if (auto axes = const_ints(ctx, 1); axes && data.rank_is_static())
        read_axes(ctx.node(), *axes, data.rank());
    ctx.set_output(0, ctx.input_type(0), data);
}

// The window along each axis spans [i - (size-1)/2, i + size/2], as ONNX defines it (symmetric
// for odd sizes).
void eval_lrn(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& s = in[0].shape();
    const auto axes = read_axes(node, in[1].to_int_vector(), static_cast<int64_t>(s.size()));
    const int64_t size = node.attrs().get_int("size", 1);
    const double alpha = node.attrs().get_float("alpha", 1e-4);
    const double beta = node.attrs().get_float("beta", 0.75);
    const double bias = node.attrs().get_float("bias", 1.0);
    const double scale = alpha / std::pow(static_cast<double>(size), axes.size());
    const std::vector<int64_t> strides = row_major_strides(s);
    const int64_t before = (size - 1) / 2, after = size / 2;
    if (in[0].size() == 0) return;
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        T* y = out[0].data<T>();
        const size_t na = axes.size();
        std::vector<int64_t> lo(na), hi(na), cur(na);
        for (int64_t i = 0; i < in[0].size(); ++i) {
            int64_t base = i;
            for (size_t a = 0; a < na; ++a) {
                const int64_t ax = axes[a];
                const int64_t c = (i / strides[ax]) % s[ax];
                lo[a] = std::max<int64_t>(c - before, 0);
                hi[a] = std::min<int64_t>(c + after + 1, s[ax]);
                base -= c * strides[ax];
                cur[a] = lo[a];
            }
            double sum = 0;
            bool empty = false;
            for (size_t a = 0; a < na; ++a) empty = empty || lo[a] >= hi[a];
            while (!empty) {
                int64_t at = base;
                for (size_t a = 0; a < na; ++a) at += cur[a] * strides[axes[a]];
                const double v = as_double(x[at]);
                sum += v * v;
                size_t a = na;
                while (a > 0) {
                    --a;
                    if (++cur[a] < hi[a]) break;
                    cur[a] = lo[a];
                    if (a == 0) empty = true;
                }
                if (na == 0) break;
            }
            y[i] = float_from_double<T>(as_double(x[i]) / std::pow(bias + scale * sum, beta));
        }
    });
}

}  // namespace

void register_norm(OpRegistry& r) {
    r.add({"BatchNormInference", "opset5", infer_batch_norm, eval_batch_norm});
    r.add({"MVN", "opset6", infer_mvn, eval_mvn});
    r.add({"LRN", "opset1", infer_lrn, eval_lrn});
}

}  // namespace kiln::nn
