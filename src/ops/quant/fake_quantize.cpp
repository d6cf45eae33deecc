// FakeQuantize-1 (OpenVINO): x, input_low, input_high, output_low, output_high (numpy
// broadcast to x) and `levels`:
//   x <= min(il, ih)  -> ol
//   x >  max(il, ih)  -> oh
//   otherwise         -> round((x - il) / (ih - il) * (levels - 1)) / (levels - 1) * (oh - ol) + ol
#include <array>
#include <cmath>

#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/quant/quant_common.hpp"

namespace kiln {
namespace {

void infer_fake_quantize(ShapeContext& ctx) {
    ctx.expect_inputs(5);
    ctx.check(is_float(ctx.input_type(0)), "x must be floating-point");
    for (size_t i = 1; i < 5; ++i) {
        ctx.check(ctx.input_type(i) == ctx.input_type(0), "input ", i, " has type ",
                  to_string(ctx.input_type(i)), ", expected ", to_string(ctx.input_type(0)));
    }
    ctx.check(ctx.attrs().get_int("levels") >= 2, "levels must be >= 2");
    const std::string ab = ctx.attrs().get_string("auto_broadcast", "numpy");
    ctx.check(ab == "numpy", "only numpy auto_broadcast is supported, got '", ab, "'");
    PartialShape out = ctx.input_shape(0);
    for (size_t i = 1; i < 5; ++i) out = broadcast_partial(ctx, out, ctx.input_shape(i));
    // The limits broadcast to x; they may not enlarge it.
    ctx.check(!out.rank_is_static() || !ctx.input_shape(0).rank_is_static() ||
                  out.rank() == ctx.input_shape(0).rank(),
              "limits must broadcast to x ", to_string(ctx.input_shape(0)));
    ctx.set_output(0, ctx.input_type(0), ctx.input_shape(0));
}

void eval_fake_quantize(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& xs = in[0].shape();
    for (size_t i = 1; i < 5; ++i) {
        KILN_CHECK(broadcast_static(xs, in[i].shape()) == xs, node.context(), " input ", i, " ",
                   to_string(in[i].shape()), " does not broadcast to x ", to_string(xs));
    }
    const double levels = static_cast<double>(node.attrs().get_int("levels")) - 1.0;
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        const T* il = in[1].data<T>();
        const T* ih = in[2].data<T>();
        const T* ol = in[3].data<T>();
        const T* oh = in[4].data<T>();
        T* y = out[0].data<T>();
        std::array<Shape, 5> shapes{xs, in[1].shape(), in[2].shape(), in[3].shape(), in[4].shape()};
        for_each_broadcast<5>(xs, shapes, [&](int64_t i, const std::array<int64_t, 5>& o) {
            const double v = static_cast<double>(x[o[0]]);
            const double lo = static_cast<double>(il[o[1]]), hi = static_cast<double>(ih[o[2]]);
            const double olo = static_cast<double>(ol[o[3]]), ohi = static_cast<double>(oh[o[4]]);
            double r;
            if (v <= std::min(lo, hi)) {
                r = olo;
            } else if (v > std::max(lo, hi)) {
                r = ohi;
            } else {
                r = std::nearbyint((v - lo) / (hi - lo) * levels) / levels * (ohi - olo) + olo;
            }
            y[i] = static_cast<T>(r);
        });
    });
}

}  // namespace

void register_fake_quantize(OpRegistry& r) {
    r.add({"FakeQuantize", "opset1", infer_fake_quantize, eval_fake_quantize});
}

}  // namespace kiln
