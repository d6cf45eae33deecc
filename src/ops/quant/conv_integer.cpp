// ConvInteger (Kiln op, version "kiln1"): grouped N-D convolution of 8-bit integers with zero
// points, accumulated in i32, mirroring ONNX ConvInteger (plus an optional i32 bias, which
// QLinearConv needs before requantization).
// Inputs: x [N, C, D...], w [M, C/group, K...], x_zero_point (per tensor), w_zero_point (per
// tensor or per output channel), bias (optional [M] i32).
// Attributes (OpenVINO Convolution names): strides, dilations, pads_begin, pads_end,
// auto_pad (explicit|same_upper|same_lower|valid), group.
#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/quant/quant_common.hpp"

namespace kiln {
namespace {

struct ConvGeometry {
    std::vector<int64_t> strides, dilations, pads_begin, pads_end;
};

template <class Fail>
ConvGeometry conv_geometry(const Attributes& a, size_t sp, const std::vector<int64_t>& in,
                           const std::vector<int64_t>& k, Fail&& fail) {
    ConvGeometry g;
    g.strides = a.get_ints("strides", std::vector<int64_t>(sp, 1));
    g.dilations = a.get_ints("dilations", std::vector<int64_t>(sp, 1));
    g.pads_begin = a.get_ints("pads_begin", std::vector<int64_t>(sp, 0));
    g.pads_end = a.get_ints("pads_end", std::vector<int64_t>(sp, 0));
    if (g.strides.size() != sp || g.dilations.size() != sp || g.pads_begin.size() != sp ||
        g.pads_end.size() != sp) {
        fail("strides/dilations/pads must have ", sp, " values");
    }
    for (size_t i = 0; i < sp; ++i) {
        if (g.strides[i] < 1 || g.dilations[i] < 1) fail("strides and dilations must be >= 1");
        if (g.pads_begin[i] < 0 || g.pads_end[i] < 0) fail("pads must be >= 0");
    }
    const std::string pad = a.get_string("auto_pad", "explicit");
    if (pad == "valid") {
        std::fill(g.pads_begin.begin(), g.pads_begin.end(), 0);
        std::fill(g.pads_end.begin(), g.pads_end.end(), 0);
    } else if (pad == "same_upper" || pad == "same_lower") {
        for (size_t i = 0; i < sp; ++i) {
            if (in[i] < 0) continue;
            const int64_t out = (in[i] + g.strides[i] - 1) / g.strides[i];
            const int64_t total = std::max<int64_t>(
                0, (out - 1) * g.strides[i] + (k[i] - 1) * g.dilations[i] + 1 - in[i]);
            g.pads_begin[i] = pad == "same_upper" ? total / 2 : total - total / 2;
            g.pads_end[i] = total - g.pads_begin[i];
        }
    } else if (pad != "explicit" && pad != "notset") {
        fail("unknown auto_pad '", pad, "'");
    }
    return g;
}

void infer_conv_integer(ShapeContext& ctx) {
    ctx.expect_inputs(4, 5);
    for (size_t i = 0; i < 4; ++i) {
        const ElementType t = ctx.input_type(i);
        ctx.check(t == ElementType::u8 || t == ElementType::i8, "input ", i, " must be u8 or i8");
    }
    if (ctx.input_count() == 5) ctx.check(ctx.input_type(4) == ElementType::i32, "bias must be i32");
    const PartialShape& x = ctx.input_shape(0);
    const PartialShape& w = ctx.input_shape(1);
    if (!x.rank_is_static() || !w.rank_is_static()) {
        ctx.set_output(0, ElementType::i32, PartialShape::dynamic());
        return;
    }
    ctx.check(x.rank() >= 3 && x.rank() == w.rank(), "x ", to_string(x), " and w ", to_string(w),
              " must have equal ranks >= 3");
    const size_t sp = static_cast<size_t>(x.rank() - 2);
    const int64_t group = ctx.attrs().get_int("group", 1);
    ctx.check(group >= 1, "group must be >= 1");
    if (x[1].is_static() && w[1].is_static()) {
        ctx.check(x[1].get_length() == w[1].get_length() * group, "x has ", x[1].get_length(),
                  " channels, w expects ", w[1].get_length(), " x group ", group);
    }
    std::vector<int64_t> in(sp), k(sp);
    for (size_t i = 0; i < sp; ++i) {
        in[i] = x[i + 2].value_or(-1);
        k[i] = w[i + 2].value_or(-1);
    }
    ConvGeometry g = conv_geometry(ctx.attrs(), sp, in, k, [&](const auto&... a) { ctx.fail(a...); });
    std::vector<Dimension> out{x[0], w[0]};
    for (size_t i = 0; i < sp; ++i) {
        if (in[i] < 0 || k[i] < 0) {
            out.push_back(Dimension::dynamic());
            continue;
        }
        const int64_t span = (k[i] - 1) * g.dilations[i] + 1;
        const int64_t padded = in[i] + g.pads_begin[i] + g.pads_end[i];
        ctx.check(padded >= span, "kernel is larger than the padded input");
        out.push_back(Dimension((padded - span) / g.strides[i] + 1));
    }
    ctx.set_output(0, ElementType::i32, PartialShape(out));
}

void eval_conv_integer(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& xs = in[0].shape();
    const Shape& ws = in[1].shape();
    const Shape& ys = out[0].shape();
    const size_t sp = xs.size() - 2;
    const std::vector<int64_t> xin(xs.begin() + 2, xs.end()), kin(ws.begin() + 2, ws.end());
    ConvGeometry g = conv_geometry(node.attrs(), sp, xin, kin,
                                   [&](const auto&... a) { KILN_THROW(node.context(), " ", a...); });
    const int64_t N = xs[0], C = xs[1], M = ws[0], group = node.attrs().get_int("group", 1);
    const int64_t cg = C / group, mg = M / group;
    KILN_CHECK(M % group == 0, node.context(), " output channels not divisible by group");
    const std::vector<int64_t> x = in[0].to_int_vector(), w = in[1].to_int_vector();
    const std::vector<int64_t> xzp = in[2].to_int_vector(), wzp = in[3].to_int_vector();
    KILN_CHECK(xzp.size() == 1, node.context(), " x_zero_point must be a single value");
    KILN_CHECK(wzp.size() == 1 || static_cast<int64_t>(wzp.size()) == M, node.context(),
               " w_zero_point must have 1 or ", M, " values");
    std::vector<int64_t> bias;
    if (in.size() == 5) {
        bias = in[4].to_int_vector();
        KILN_CHECK(static_cast<int64_t>(bias.size()) == M, node.context(), " bias must have ", M,
                   " values");
    }
    const int64_t in_sp = shape_size(xin), k_sp = shape_size(kin);
    const Shape osp(ys.begin() + 2, ys.end());
    const int64_t out_sp = shape_size(osp);
    int32_t* y = out[0].data<int32_t>();
    std::vector<int64_t> o(sp), kk(sp);
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t m = 0; m < M; ++m) {
            const int64_t gi = m / mg;
            const int64_t zw = wzp.size() == 1 ? wzp[0] : wzp[m];
            for (int64_t op = 0; op < out_sp; ++op) {
                for (int64_t r = op, d = static_cast<int64_t>(sp) - 1; d >= 0; --d) {
                    o[d] = r % osp[d];
                    r /= osp[d];
                }
                int64_t acc = bias.empty() ? 0 : bias[m];
                for (int64_t kp = 0; kp < k_sp; ++kp) {
                    int64_t xoff = 0;
                    bool inside = true;
                    for (int64_t r = kp, d = static_cast<int64_t>(sp) - 1; d >= 0; --d) {
                        kk[d] = r % kin[d];
                        r /= kin[d];
                    }
                    for (size_t d = 0; d < sp; ++d) {
                        const int64_t p = o[d] * g.strides[d] + kk[d] * g.dilations[d] - g.pads_begin[d];
                        if (p < 0 || p >= xin[d]) {
                            inside = false;
                            break;
                        }
                        xoff = xoff * xin[d] + p;
                    }
                    if (!inside) continue;  // padding holds the zero point: contributes 0
                    for (int64_t c = 0; c < cg; ++c) {
                        const int64_t xv = x[(n * C + gi * cg + c) * in_sp + xoff] - xzp[0];
                        const int64_t wv = w[(m * cg + c) * k_sp + kp] - zw;
                        acc += xv * wv;
                    }
                }
                y[(n * M + m) * out_sp + op] = static_cast<int32_t>(acc);
            }
        }
    }
}

}  // namespace

void register_conv_integer(OpRegistry& r) {
    r.add({"ConvInteger", "kiln1", infer_conv_integer, eval_conv_integer});
}

}  // namespace kiln
