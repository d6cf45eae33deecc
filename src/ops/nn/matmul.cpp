// MatMul (opset1): numpy matmul with transpose_a / transpose_b, batch broadcasting and 1-D
// operands (a 1-D `a` is a row, a 1-D `b` a column; the unit axis is dropped from the result).
// Floating and integer types; integer products wrap around (MatMulInteger builds on them).
#include "core/dispatch.hpp"
#include "ops/common/shape_utils.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::nn {
namespace {

struct MatDims {
    std::vector<Dimension> batch;
    Dimension rows, cols;  // of the (transposed) operand
};

MatDims mat_dims(const PartialShape& s, bool transpose, bool is_a) {
    MatDims d;
    if (s.size() == 1) {
        // 1-D operands ignore the transpose flags.
        d.rows = is_a ? Dimension(1) : s[0];
        d.cols = is_a ? s[0] : Dimension(1);
        return d;
    }
    d.batch.assign(s.dims().begin(), s.dims().end() - 2);
    d.rows = s[s.size() - 2];
    d.cols = s[s.size() - 1];
    if (transpose) std::swap(d.rows, d.cols);
    return d;
}

void infer_matmul(ShapeContext& ctx) {
    ctx.expect_inputs(2);
    const ElementType type = common_numeric_type(ctx, "inputs");
    const PartialShape& a = ctx.input_shape(0);
    const PartialShape& b = ctx.input_shape(1);
    if (!a.rank_is_static() || !b.rank_is_static()) {
        ctx.set_output(0, type, PartialShape());
        return;
    }
    ctx.check(a.size() >= 1 && b.size() >= 1, "operands must be at least 1-D, got ", to_string(a),
              " and ", to_string(b));
    const MatDims da = mat_dims(a, ctx.attrs().get_bool("transpose_a", false), true);
    const MatDims db = mat_dims(b, ctx.attrs().get_bool("transpose_b", false), false);
    ctx.check(da.cols.compatible(db.rows), "inner dimensions do not match: ", to_string(a), " x ",
              to_string(b));
    PartialShape batch = broadcast_partial(ctx, PartialShape(da.batch), PartialShape(db.batch));
    std::vector<Dimension> out = batch.dims();
    if (a.size() > 1) out.push_back(da.rows);
    if (b.size() > 1) out.push_back(db.cols);
    ctx.set_output(0, type, PartialShape(out));
}

template <class T>
void matmul_kernel(const T* a, const T* b, T* y, const Shape& batch, const Shape& batch_a,
                   const Shape& batch_b, int64_t m, int64_t k, int64_t n, bool ta, bool tb) {
    // Element strides of a(i, p) and b(p, j) within one matrix.
    const int64_t a_rs = ta ? 1 : k, a_cs = ta ? m : 1;
    const int64_t b_rs = tb ? 1 : n, b_cs = tb ? k : 1;
    for_each_broadcast<2>(batch, {batch_a, batch_b}, [&](int64_t bi, const auto& off) {
        const T* am = a + off[0] * m * k;
        const T* bm = b + off[1] * k * n;
        T* ym = y + bi * m * n;
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                Acc<T> acc{};
                for (int64_t p = 0; p < k; ++p)
                    acc += to_acc(am[i * a_rs + p * a_cs]) * to_acc(bm[p * b_rs + j * b_cs]);
                ym[i * n + j] = from_acc<T>(acc);
            }
    });
}

void eval_matmul(const Node& node, const TensorVector& in, TensorVector& out, ExecContext&) {
    allocate_outputs(node, in, out);
    const Shape& as = in[0].shape();
    const Shape& bs = in[1].shape();
    bool ta = node.attrs().get_bool("transpose_a", false);
    bool tb = node.attrs().get_bool("transpose_b", false);
    int64_t m, k, n;
    Shape batch_a, batch_b;
    if (as.size() == 1) {
        m = 1, k = as[0], ta = false;
    } else {
        batch_a.assign(as.begin(), as.end() - 2);
        m = ta ? as.back() : as[as.size() - 2];
        k = ta ? as[as.size() - 2] : as.back();
    }
    if (bs.size() == 1) {
        n = 1, tb = false;
    } else {
        batch_b.assign(bs.begin(), bs.end() - 2);
        n = tb ? bs[bs.size() - 2] : bs.back();
    }
    const Shape batch = broadcast_static(batch_a, batch_b);
    if (out[0].size() == 0) return;
    dispatch_numeric(in[0].element_type(), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        if constexpr (std::is_same_v<T, bool>) {
            KILN_THROW(node.context(), " does not support boolean");
        } else {
            matmul_kernel<T>(in[0].data<T>(), in[1].data<T>(), out[0].data<T>(), batch, batch_a,
                             batch_b, m, k, n, ta, tb);
        }
    });
}

}  // namespace

void register_matmul(OpRegistry& r) { r.add({"MatMul", "opset1", infer_matmul, eval_matmul}); }

}  // namespace kiln::nn
