// MaxPool (opset8: dilations, indices output, axis) and AvgPool (opset1: exclude-pad) over 1 to
// 3 spatial axes.
#include <cmath>
#include <limits>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

// Output shape of a pooling op over `data`; `dilations` is false for AvgPool.
PartialShape pool_output_shape(ShapeContext& ctx, bool dilations) {
    const PartialShape& data = ctx.input_shape(0);
    const std::vector<int64_t> kernel = ctx.attrs().get_ints("kernel", {});
    ctx.check(!kernel.empty(), "needs a non-empty 'kernel' attribute");
    ctx.check(kernel.size() <= 3, "supports 1 to 3 spatial axes, got ", kernel.size());
    Window w = read_window(ctx.node(), kernel, dilations, true);
    if (!data.rank_is_static()) return PartialShape::dynamic(kernel.size() + 2);
    ctx.check(data.size() == kernel.size() + 2, "data ", to_string(data), " does not match the ",
              kernel.size(), "-D kernel");
    std::vector<Dimension> out{data[0], data[1]};
    for (const Dimension& d : window_output_dims(ctx.node(), w, data, 2)) out.push_back(d);
    return PartialShape(out);
}

void infer_max_pool(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const ElementType t = ctx.input_type(0);
    ctx.check(t != ElementType::boolean && t != ElementType::string, "does not support ",
              to_string(t));
    const std::string it = ctx.attrs().get_string("index_element_type", "i64");
    const ElementType index_type = element_type_from_string(it);
    ctx.check(index_type == ElementType::i32 || index_type == ElementType::i64,
              "index_element_type must be i32 or i64, got ", it);
    const PartialShape out = pool_output_shape(ctx, true);
    if (ctx.input_shape(0).rank_is_static()) {
        normalize_axis(ctx, ctx.attrs().get_int("axis", 0), ctx.input_shape(0).rank());
    }
    ctx.set_output(0, t, out);
    ctx.set_output(1, index_type, out);
}

void infer_avg_pool(ShapeContext& ctx) {
    ctx.expect_inputs(1);
    const ElementType t = ctx.input_type(0);
    ctx.check(is_float(t) || t == ElementType::dynamic, "needs a floating-point input, got ",
              to_string(t));
    ctx.set_output(0, t, pool_output_shape(ctx, false));
}

template <class T>
T lowest_value() {
    if constexpr (std::is_integral_v<T>) {
        return std::numeric_limits<T>::lowest();
    } else {
        return static_cast<T>(-std::numeric_limits<float>::infinity());
    }
}

template <class T, class I>
void max_pool_kernel(const T* x, T* y, I* idx, int64_t planes, int64_t index_modulo,
                     const Spatial3& g) {
    const int64_t in_size = g.in_size();
    for (int64_t p = 0; p < planes; ++p) {
        const T* xp = x + p * in_size;
        for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
            for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
                for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
                    T best = lowest_value<T>();
                    int64_t best_at = -1;
                    for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
                        const int64_t i0 = o0 * g.s[0] - g.pb[0] + k0 * g.d[0];
                        if (i0 < 0 || i0 >= g.in[0]) continue;
                        for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
                            const int64_t i1 = o1 * g.s[1] - g.pb[1] + k1 * g.d[1];
                            if (i1 < 0 || i1 >= g.in[1]) continue;
                            for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                                const int64_t i2 = o2 * g.s[2] - g.pb[2] + k2 * g.d[2];
                                if (i2 < 0 || i2 >= g.in[2]) continue;
                                const int64_t at = (i0 * g.in[1] + i1) * g.in[2] + i2;
                                const T v = xp[at];
                                if (best_at < 0 || as_double(v) > as_double(best)) {
                                    best = v;
                                    best_at = at;
                                }
                            }
                        }
                    }
                    *y++ = best;
                    const int64_t flat = best_at < 0 ? 0 : p * in_size + best_at;
                    *idx++ = static_cast<I>(flat % index_modulo);
                }
    }
}

void eval_max_pool(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& xs = in[0].shape();
    Window w = read_window(node, node.attrs().get_ints("kernel"), true, true);
    const Shape out_sp = resolve_window(node, w, spatial_of(xs));
    const Spatial3 g = to_spatial3(node, w, spatial_of(xs), out_sp);
    const int64_t axis =
        normalize_axis(node, node.attrs().get_int("axis", 0), static_cast<int64_t>(xs.size()));
    int64_t modulo = 1;
    for (size_t i = static_cast<size_t>(axis); i < xs.size(); ++i) modulo *= xs[i];
    if (out[0].size() == 0) return;
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (std::is_same_v<T, bool>) {
            KILN_THROW(node.context(), " does not support boolean");
        } else {
            dispatch_index(out[1].element_type(), [&](auto itag) {
                using I = KILN_TYPE_OF(itag);
                max_pool_kernel<T, I>(in[0].data<T>(), out[0].data<T>(), out[1].data<I>(),
                                      xs[0] * xs[1], modulo, g);
            });
        }
    });
}

template <class T>
void avg_pool_kernel(const T* x, T* y, int64_t planes, bool exclude_pad, const Spatial3& g,
                     const int64_t* pe) {
    const int64_t in_size = g.in_size();
    for (int64_t p = 0; p < planes; ++p) {
        const T* xp = x + p * in_size;
        for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
            for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
                for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
                    const int64_t o[3] = {o0, o1, o2};
                    // Window bounds clipped to the input, and to the padded input (the divisor
                    // when pads count).
                    int64_t lo[3], hi[3];
                    int64_t padded_count = 1;
                    for (int a = 0; a < 3; ++a) {
                        const int64_t start = o[a] * g.s[a] - g.pb[a];
                        const int64_t end = start + g.k[a];
                        lo[a] = std::max<int64_t>(start, 0);
                        hi[a] = std::min(end, g.in[a]);
                        const int64_t plo = std::max(start, -g.pb[a]);
                        const int64_t phi = std::min(end, g.in[a] + pe[a]);
                        padded_count *= std::max<int64_t>(phi - plo, 0);
                    }
                    double sum = 0;
                    int64_t count = 0;
                    for (int64_t i0 = lo[0]; i0 < hi[0]; ++i0)
                        for (int64_t i1 = lo[1]; i1 < hi[1]; ++i1)
                            for (int64_t i2 = lo[2]; i2 < hi[2]; ++i2) {
                                sum += as_double(xp[(i0 * g.in[1] + i1) * g.in[2] + i2]);
                                ++count;
                            }
                    const int64_t div = exclude_pad ? count : padded_count;
                    *y++ = float_from_double<T>(div > 0 ? sum / div : 0.0);
                }
    }
}

void eval_avg_pool(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& xs = in[0].shape();
    Window w = read_window(node, node.attrs().get_ints("kernel"), false, true);
    const Shape out_sp = resolve_window(node, w, spatial_of(xs));
    const Spatial3 g = to_spatial3(node, w, spatial_of(xs), out_sp);
    int64_t pe[3] = {0, 0, 0};
    for (size_t i = 0; i < w.rank(); ++i) pe[3 - w.rank() + i] = w.pads_end[i];
    const bool exclude_pad = node.attrs().get_bool("exclude-pad", false);
    if (out[0].size() == 0) return;
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        avg_pool_kernel<T>(in[0].data<T>(), out[0].data<T>(), xs[0] * xs[1], exclude_pad, g, pe);
    });
}

}  // namespace

void register_pool(OpRegistry& r) {
    r.add({"MaxPool", "opset8", infer_max_pool, eval_max_pool});
    r.add({"AvgPool", "opset1", infer_avg_pool, eval_avg_pool});
}

}  // namespace kiln::nn
