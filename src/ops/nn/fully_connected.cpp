// FullyConnected (kiln1): y = x * w + bias, with x [..., K], w [K, N] ([N, K] when transpose_b)
// and bias [N] added to every row. It is MatMul followed by Add of a constant bias, which the
// CPU device fuses so the bias is added while each block of the product is still in cache.
#include <algorithm>

#include "core/dispatch.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

void infer_fully_connected(ShapeContext& ctx) {
    ctx.expect_inputs(3);
    for (size_t i = 0; i < 3; ++i) {
        const ElementType t = ctx.input_type(i);
        ctx.check(is_float(t) || t == ElementType::dynamic, "input ", i,
                  " must be floating-point, got ", to_string(t));
    }
    const PartialShape& x = ctx.input_shape(0);
    const PartialShape& w = ctx.input_shape(1);
    const PartialShape& b = ctx.input_shape(2);
    ctx.check(!w.rank_is_static() || w.size() == 2, "weight must be 2-D, got ", to_string(w));
    ctx.check(!b.rank_is_static() || b.size() == 1, "bias must be 1-D, got ", to_string(b));
    ctx.check(!x.rank_is_static() || x.size() >= 1, "input must be at least 1-D");
    if (!x.rank_is_static() || !w.rank_is_static()) {
        ctx.set_output(0, ctx.input_type(0), PartialShape());
        return;
    }
    const bool tb = ctx.attrs().get_bool("transpose_b", false);
    const Dimension k = tb ? w[1] : w[0], n = tb ? w[0] : w[1];
    ctx.check(x[x.size() - 1].compatible(k), "inner dimensions do not match: ", to_string(x), " x ",
              to_string(w));
    ctx.check(!b.rank_is_static() || b[0].compatible(n), "bias ", to_string(b),
              " does not match the output width of ", to_string(w));
    std::vector<Dimension> out = x.dims();
    out.back() = n;
    ctx.set_output(0, ctx.input_type(0), PartialShape(out));
}

void eval_fully_connected(const Node& node, const TensorVector& in, TensorVector& out,
                          ExecContext&) {
    allocate_outputs(node, in, out);
    const bool tb = node.attrs().get_bool("transpose_b", false);
    const Shape& ws = in[1].shape();
    const int64_t k = tb ? ws[1] : ws[0], n = tb ? ws[0] : ws[1];
    const int64_t rows = k > 0 ? in[0].size() / k : out[0].size() / std::max<int64_t>(n, 1);
    dispatch_float(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        const T* x = in[0].data<T>();
        const T* w = in[1].data<T>();
        const T* b = in[2].data<T>();
        T* y = out[0].data<T>();
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t j = 0; j < n; ++j) {
                double acc = as_double(b[j]);
                for (int64_t p = 0; p < k; ++p)
                    acc += as_double(x[r * k + p]) * as_double(tb ? w[j * k + p] : w[p * n + j]);
                y[r * n + j] = float_from_double<T>(acc);
            }
    });
}

}  // namespace

void register_fully_connected(OpRegistry& r) {
    r.add({"FullyConnected", "kiln1", infer_fully_connected, eval_fully_connected});
}

}  // namespace kiln::nn
