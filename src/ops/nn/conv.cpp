// Convolution and GroupConvolution (opset1): N-D sliding-window correlation over 1 to 3 spatial
// axes with strides, dilations, explicit or automatic padding. Any numeric type except boolean;
// integer types accumulate with wrap-around (ConvInteger builds on them).
#include "core/dispatch.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

// Filters: [O, C, k...] for Convolution, [G, O/G, C/G, k...] for GroupConvolution.
void infer_conv_impl(ShapeContext& ctx, bool grouped) {
    ctx.expect_inputs(2);
    const ElementType type = common_numeric_type(ctx, "data and filters");
    const PartialShape& data = ctx.input_shape(0);
    const PartialShape& filters = ctx.input_shape(1);
    const size_t fk = grouped ? 3 : 2;  // first kernel axis of the filters
    if (!data.rank_is_static() && !filters.rank_is_static()) {
        ctx.set_output(0, type, PartialShape());
        return;
    }
    if (data.rank_is_static()) {
        ctx.check(data.size() >= 3 && data.size() <= 5, "data must have rank 3 to 5, got ",
                  to_string(data));
    }
    if (filters.rank_is_static()) {
        ctx.check(filters.size() >= fk + 1 && filters.size() <= fk + 3,
                  "filters have an invalid rank: ", to_string(filters));
    }
    if (data.rank_is_static() && filters.rank_is_static()) {
        ctx.check(data.size() + (grouped ? 1 : 0) == filters.size(), "filters ", to_string(filters),
                  " do not match the rank of data ", to_string(data));
    }
    const size_t nsp = data.rank_is_static() ? data.size() - 2 : filters.size() - fk;
    std::vector<Dimension> out(nsp + 2);
    out[0] = data.rank_is_static() ? data[0] : Dimension::dynamic();
    Dimension in_ch = data.rank_is_static() ? data[1] : Dimension::dynamic();
    if (filters.rank_is_static()) {
        Dimension filt_ch = filters[fk - 1];
        if (grouped && filters[0].is_static() && filt_ch.is_static()) {
            filt_ch = Dimension(filters[0].get_length() * filt_ch.get_length());
        } else if (grouped) {
            filt_ch = Dimension::dynamic();
        }
        ctx.check(in_ch.compatible(filt_ch), "data channels ", to_string(PartialShape{in_ch}),
                  " do not match the filters ", to_string(filters));
        if (grouped) {
            out[1] = filters[0].is_static() && filters[1].is_static()
                         ? Dimension(filters[0].get_length() * filters[1].get_length())
                         : Dimension::dynamic();
        } else {
            out[1] = filters[0];
        }
    }
    bool kernel_known = filters.rank_is_static();
    std::vector<int64_t> kernel(nsp, 1);
    for (size_t i = 0; kernel_known && i < nsp; ++i) {
        if (filters[fk + i].is_dynamic()) {
            kernel_known = false;
        } else {
            kernel[i] = filters[fk + i].get_length();
        }
    }
    if (kernel_known && data.rank_is_static()) {
        for (int64_t k : kernel) ctx.check(k > 0, "filters have an empty kernel axis");
        Window w = read_window(ctx.node(), kernel, true, false);
        auto sp = window_output_dims(ctx.node(), w, data, 2);
        for (size_t i = 0; i < nsp; ++i) out[2 + i] = sp[i];
    } else {
        // Validates the attributes even when the geometry is not known yet.
        read_window(ctx.node(), std::vector<int64_t>(nsp, 1), true, false);
    }
    ctx.set_output(0, type, PartialShape(out));
}

void infer_conv(ShapeContext& ctx) { infer_conv_impl(ctx, false); }
void infer_group_conv(ShapeContext& ctx) { infer_conv_impl(ctx, true); }

template <class T>
void conv_kernel(const T* x, const T* w, T* y, int64_t batch, int64_t groups, int64_t cg,
                 int64_t og, const Spatial3& g) {
    const int64_t in_size = g.in_size(), k_size = g.k_size(), out_size = g.out_size();
    T* yp = y;
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t grp = 0; grp < groups; ++grp) {
            const T* xg = x + (n * groups + grp) * cg * in_size;
            for (int64_t oc = 0; oc < og; ++oc) {
                const T* wo = w + (grp * og + oc) * cg * k_size;
                for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
                    for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
                        for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
                            Acc<T> acc{};
                            for (int64_t ic = 0; ic < cg; ++ic) {
                                const T* xc = xg + ic * in_size;
                                const T* wc = wo + ic * k_size;
                                for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
                                    const int64_t i0 = o0 * g.s[0] - g.pb[0] + k0 * g.d[0];
                                    if (i0 < 0 || i0 >= g.in[0]) continue;
                                    for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
                                        const int64_t i1 = o1 * g.s[1] - g.pb[1] + k1 * g.d[1];
                                        if (i1 < 0 || i1 >= g.in[1]) continue;
                                        const T* xr = xc + (i0 * g.in[1] + i1) * g.in[2];
                                        const T* wr = wc + (k0 * g.k[1] + k1) * g.k[2];
                                        for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                                            const int64_t i2 = o2 * g.s[2] - g.pb[2] + k2 * g.d[2];
                                            if (i2 < 0 || i2 >= g.in[2]) continue;
                                            acc += to_acc(xr[i2]) * to_acc(wr[k2]);
                                        }
                                    }
                                }
                            }
                            *yp++ = from_acc<T>(acc);
                        }
            }
        }
    }
    (void)out_size;
}

void eval_conv(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const bool grouped = node.type() == "GroupConvolution";
    const Shape& xs = in[0].shape();
    const Shape& ws = in[1].shape();
    const size_t fk = grouped ? 3 : 2;
    const int64_t groups = grouped ? ws[0] : 1;
    const int64_t og = grouped ? ws[1] : ws[0];
    const int64_t cg = grouped ? ws[2] : ws[1];
    Window w = read_window(node, std::vector<int64_t>(ws.begin() + fk, ws.end()), true, false);
    const Shape out_sp = resolve_window(node, w, spatial_of(xs));
    const Spatial3 g = to_spatial3(node, w, spatial_of(xs), out_sp);
    if (out[0].size() == 0) return;
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (std::is_same_v<T, bool>) {
            KILN_THROW(node.context(), " does not support boolean");
        } else {
            conv_kernel<T>(in[0].data<T>(), in[1].data<T>(), out[0].data<T>(), xs[0], groups, cg,
                           og, g);
        }
    });
}

}  // namespace

void register_conv(OpRegistry& r) {
    r.add({"Convolution", "opset1", infer_conv, eval_conv});
    r.add({"GroupConvolution", "opset1", infer_group_conv, eval_conv});
}

}  // namespace kiln::nn
