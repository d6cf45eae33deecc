// ConvolutionBackpropData and GroupConvolutionBackpropData (opset1): transposed convolution
// with strides, dilations, pads, output_padding and an optional output_shape input (spatial
// extents) from which the pads are deduced.
#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

struct BackpropGeometry {
    std::vector<int64_t> kernel, strides, dilations, pads_begin, output_padding;
    std::vector<Dimension> out;
};

// Computes output spatial extents and the effective pads_begin. `output_shape` holds the
// requested spatial extents when given.
BackpropGeometry backprop_geometry(const Node& node, const std::vector<int64_t>& kernel,
                                   const std::vector<Dimension>& in,
                                   const std::optional<std::vector<int64_t>>& output_shape) {
    const size_t n = kernel.size();
    BackpropGeometry g;
    g.kernel = kernel;
    g.strides = spatial_attr(node, "strides", n, 1);
    g.dilations = spatial_attr(node, "dilations", n, 1);
    g.pads_begin = spatial_attr(node, "pads_begin", n, 0);
    std::vector<int64_t> pads_end = spatial_attr(node, "pads_end", n, 0);
    g.output_padding = spatial_attr(node, "output_padding", n, 0);
    const AutoPad ap = read_auto_pad(node);
    if (output_shape) {
        node_check(node, output_shape->size() == n, "output_shape has ", output_shape->size(),
                   " values, expected ", n);
    }
    for (size_t i = 0; i < n; ++i) {
        node_check(node, g.strides[i] > 0 && g.dilations[i] > 0,
                   "strides and dilations must be positive");
        node_check(node,
                   g.kernel[i] > 0 && g.kernel[i] < kMaxWindowValue &&
                       g.dilations[i] < kMaxWindowValue && g.strides[i] < kMaxWindowValue &&
                       g.pads_begin[i] > -kMaxWindowValue && g.pads_begin[i] < kMaxWindowValue &&
                       pads_end[i] > -kMaxWindowValue && pads_end[i] < kMaxWindowValue &&
                       g.output_padding[i] < kMaxWindowValue,
                   "invalid kernel extent, stride, dilation or pad");
        node_check(node, g.output_padding[i] >= 0, "output_padding must be >= 0");
        if (ap == AutoPad::valid) g.pads_begin[i] = pads_end[i] = 0;
        if (in[i].is_dynamic()) {
            g.out.push_back(output_shape ? Dimension((*output_shape)[i]) : Dimension::dynamic());
            continue;
        }
        node_check(
            node,
            static_cast<double>(g.strides[i]) * static_cast<double>(in[i].get_length()) < 1e18,
            "input extent too large");
        const int64_t keff = (g.kernel[i] - 1) * g.dilations[i] + 1;
        const int64_t full = g.strides[i] * (in[i].get_length() - 1) + keff + g.output_padding[i];
        const bool same = ap == AutoPad::same_upper || ap == AutoPad::same_lower;
        if (output_shape || same) {
            const int64_t target =
                output_shape ? (*output_shape)[i] : in[i].get_length() * g.strides[i];
            node_check(node, target >= 0 && target < (int64_t{1} << 40),
                       "output_shape value out of range: ", target);
            const int64_t total = full - target;
            // Odd padding puts the extra element at the end, except for same_lower.
            const int64_t small = total >= 0 ? total / 2 : -((-total + 1) / 2);
            g.pads_begin[i] = ap == AutoPad::same_lower ? total - small : small;
            g.out.push_back(Dimension(target));
        } else {
            node_check(node, g.pads_begin[i] >= 0 && pads_end[i] >= 0, "pads must be >= 0");
            const int64_t o = full - g.pads_begin[i] - pads_end[i];
            node_check(node, o >= 0, "pads are larger than the output on spatial axis ", i);
            g.out.push_back(Dimension(o));
        }
    }
    return g;
}

// Filters: [C_in, C_out, k...], or [G, C_in/G, C_out/G, k...] when grouped.
void infer_backprop_impl(ShapeContext& ctx, bool grouped) {
    ctx.expect_inputs(2, 3);
    const ElementType type = common_numeric_type(ctx, "data and filters");
    const PartialShape& data = ctx.input_shape(0);
    const PartialShape& filters = ctx.input_shape(1);
    const size_t fk = grouped ? 3 : 2;
    if (ctx.input_count() == 3) {
        const PartialShape& os = ctx.input_shape(2);
        ctx.check(!os.rank_is_static() || os.size() == 1, "output_shape must be 1-D");
        ctx.check(is_integral(ctx.input_type(2)) || ctx.input_type(2) == ElementType::dynamic,
                  "output_shape must be an integer tensor");
    }
    if (!data.rank_is_static() || !filters.rank_is_static()) {
        ctx.set_output(0, type, PartialShape());
        return;
    }
    ctx.check(data.size() >= 3 && data.size() <= 5, "data must have rank 3 to 5, got ",
              to_string(data));
    ctx.check(filters.size() == data.size() + (grouped ? 1 : 0), "filters ", to_string(filters),
              " do not match the rank of data ", to_string(data));
    const size_t nsp = data.size() - 2;
    Dimension in_ch = filters[fk - 2];
    if (grouped) {
        in_ch = filters[0].is_static() && filters[1].is_static()
                    ? Dimension(filters[0].get_length() * filters[1].get_length())
                    : Dimension::dynamic();
    }
    ctx.check(data[1].compatible(in_ch), "data channels do not match the filters ",
              to_string(filters));
    std::vector<Dimension> out{data[0], Dimension::dynamic()};
    if (grouped) {
        if (filters[0].is_static() && filters[2].is_static())
            out[1] = Dimension(filters[0].get_length() * filters[2].get_length());
    } else {
        out[1] = filters[1];
    }
    std::optional<std::vector<int64_t>> output_shape;
    if (ctx.input_count() == 3) {
        output_shape = const_ints(ctx, 2);
        if (!output_shape) {
            for (size_t i = 0; i < nsp; ++i) out.push_back(Dimension::dynamic());
            ctx.set_output(0, type, PartialShape(out));
            return;
        }
    }
    std::vector<int64_t> kernel(nsp, 1);
    std::vector<Dimension> in_sp(data.dims().begin() + 2, data.dims().end());
    for (size_t i = 0; i < nsp; ++i) {
        if (filters[fk + i].is_dynamic())
            in_sp[i] = Dimension::dynamic();
        else
            kernel[i] = filters[fk + i].get_length();
    }
    BackpropGeometry g = backprop_geometry(ctx.node(), kernel, in_sp, output_shape);
    out.insert(out.end(), g.out.begin(), g.out.end());
    ctx.set_output(0, type, PartialShape(out));
}

void infer_backprop(ShapeContext& ctx) { infer_backprop_impl(ctx, false); }
void infer_group_backprop(ShapeContext& ctx) { infer_backprop_impl(ctx, true); }

template <class T>
void backprop_kernel(const T* x, const T* w, T* y, int64_t batch, int64_t groups, int64_t cg,
                     int64_t og, const Spatial3& g) {
    const int64_t in_size = g.in_size(), k_size = g.k_size(), out_size = g.out_size();
    std::vector<Acc<T>> acc(static_cast<size_t>(batch * groups * og * out_size), Acc<T>{});
    for (int64_t n = 0; n < batch; ++n)
        for (int64_t grp = 0; grp < groups; ++grp)
            for (int64_t ic = 0; ic < cg; ++ic) {
                const T* xc = x + ((n * groups + grp) * cg + ic) * in_size;
                for (int64_t oc = 0; oc < og; ++oc) {
                    const T* wc = w + ((grp * cg + ic) * og + oc) * k_size;
                    Acc<T>* ac = acc.data() + ((n * groups + grp) * og + oc) * out_size;
                    for (int64_t i0 = 0; i0 < g.in[0]; ++i0)
                        for (int64_t i1 = 0; i1 < g.in[1]; ++i1)
                            for (int64_t i2 = 0; i2 < g.in[2]; ++i2) {
                                const Acc<T> xv = to_acc(xc[(i0 * g.in[1] + i1) * g.in[2] + i2]);
                                for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
                                    const int64_t o0 = i0 * g.s[0] - g.pb[0] + k0 * g.d[0];
                                    if (o0 < 0 || o0 >= g.out[0]) continue;
                                    for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
                                        const int64_t o1 = i1 * g.s[1] - g.pb[1] + k1 * g.d[1];
                                        if (o1 < 0 || o1 >= g.out[1]) continue;
                                        Acc<T>* ar = ac + (o0 * g.out[1] + o1) * g.out[2];
                                        const T* wr = wc + (k0 * g.k[1] + k1) * g.k[2];
                                        for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                                            const int64_t o2 = i2 * g.s[2] - g.pb[2] + k2 * g.d[2];
                                            if (o2 < 0 || o2 >= g.out[2]) continue;
                                            ar[o2] += xv * to_acc(wr[k2]);
                                        }
                                    }
                                }
                            }
                }
            }
    for (size_t i = 0; i < acc.size(); ++i) y[i] = from_acc<T>(acc[i]);
}

void eval_backprop(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const bool grouped = node.type() == "GroupConvolutionBackpropData";
    const Shape& xs = in[0].shape();
    const Shape& ws = in[1].shape();
    const size_t fk = grouped ? 3 : 2;
    const int64_t groups = grouped ? ws[0] : 1;
    const int64_t cg = grouped ? ws[1] : ws[0];
    const int64_t og = grouped ? ws[2] : ws[1];
    std::optional<std::vector<int64_t>> output_shape;
    if (in.size() == 3) output_shape = in[2].to_int_vector();
    const Shape in_sp = spatial_of(xs);
    std::vector<Dimension> in_dims(in_sp.begin(), in_sp.end());
    BackpropGeometry bg = backprop_geometry(node, std::vector<int64_t>(ws.begin() + fk, ws.end()),
                                            in_dims, output_shape);
    const size_t n = in_sp.size();
    node_check(node, n >= 1 && n <= 3, "supports 1 to 3 spatial axes, got ", n);
    Spatial3 g;
    const size_t off = 3 - n;
    for (size_t i = 0; i < n; ++i) {
        g.in[off + i] = in_sp[i];
        g.out[off + i] = bg.out[i].get_length();
        g.k[off + i] = bg.kernel[i];
        g.s[off + i] = bg.strides[i];
        g.d[off + i] = bg.dilations[i];
        g.pb[off + i] = bg.pads_begin[i];
    }
    if (out[0].size() == 0) return;
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (std::is_same_v<T, bool>) {
            KILN_THROW(node.context(), " does not support boolean");
        } else {
            backprop_kernel<T>(in[0].data<T>(), in[1].data<T>(), out[0].data<T>(), xs[0], groups,
                               cg, og, g);
        }
    });
}

}  // namespace

void register_conv_backprop(OpRegistry& r) {
    r.add({"ConvolutionBackpropData", "opset1", infer_backprop, eval_backprop});
    r.add({"GroupConvolutionBackpropData", "opset1", infer_group_backprop, eval_backprop});
}

}  // namespace kiln::nn
