#include "cpu/kernels/batched_matmul_f32.hpp"

#include <algorithm>

#include "cpu/kernels/gemm/gemm.hpp"
#include "cpu/kernels/parallel_gemm.hpp"

namespace kiln::cpu {
namespace {

struct BatchPlan {
    Shape out_shape;
    int64_t m = 0, k = 0, n = 0, count = 0;
    std::vector<int64_t> a_index, b_index;  // matrix index in a and b of each output matrix
};

// Numpy broadcasting of the batch axes; every dimension is checked against the other operand
// because the shapes are only known at run time.
BatchPlan plan_batch(const std::string& context, const Shape& as, const Shape& bs, bool ta,
                     bool tb) {
    BatchPlan p;
    const size_t ra = as.size(), rb = bs.size();
    p.m = ta ? as[ra - 1] : as[ra - 2];
    p.k = ta ? as[ra - 2] : as[ra - 1];
    const int64_t kb = tb ? bs[rb - 1] : bs[rb - 2];
    p.n = tb ? bs[rb - 2] : bs[rb - 1];
    KILN_CHECK(p.k == kb, context, " inner dimensions do not match: ", to_string(as), " x ",
               to_string(bs), (ta ? " (a transposed)" : ""), (tb ? " (b transposed)" : ""));
    const size_t batch_rank = std::max(ra, rb) - 2;
    Shape batch(batch_rank), da(batch_rank, 1), db(batch_rank, 1);
    for (size_t i = 0; i < ra - 2; ++i) da[batch_rank - (ra - 2) + i] = as[i];
    for (size_t i = 0; i < rb - 2; ++i) db[batch_rank - (rb - 2) + i] = bs[i];
    for (size_t i = 0; i < batch_rank; ++i) {
        KILN_CHECK(da[i] == db[i] || da[i] == 1 || db[i] == 1, context,
                   " batch dimensions do not broadcast: ", to_string(as), " x ", to_string(bs));
        batch[i] = da[i] == 1 ? db[i] : da[i];
    }
    p.count = shape_size(batch);
    p.a_index.resize(static_cast<size_t>(p.count));
    p.b_index.resize(static_cast<size_t>(p.count));
    for (int64_t bi = 0; bi < p.count; ++bi) {
        int64_t rest = bi, ia = 0, ib = 0, sa = 1, sb = 1;
        for (size_t d = batch_rank; d-- > 0;) {
            const int64_t coord = rest % batch[d];
            rest /= batch[d];
            if (da[d] != 1) ia += coord * sa;
            if (db[d] != 1) ib += coord * sb;
            sa *= da[d];
            sb *= db[d];
        }
        p.a_index[static_cast<size_t>(bi)] = ia;
        p.b_index[static_cast<size_t>(bi)] = ib;
    }
    p.out_shape = batch;
    p.out_shape.push_back(p.m);
    p.out_shape.push_back(p.n);
    return p;
}

}  // namespace

KernelFn make_batched_matmul_f32_kernel(const Node& node, const KernelContext& kc) {
    if (node.type() != "MatMul" || node.input_count() != 2) return {};
    if (node.input_type(0) != ElementType::f32 || node.input_type(1) != ElementType::f32) return {};
    const PartialShape& as = node.input_shape(0);
    const PartialShape& bs = node.input_shape(1);
    if (!as.rank_is_static() || !bs.rank_is_static() || as.rank() < 2 || bs.rank() < 2) return {};
    const bool ta = node.attrs().get_bool("transpose_a", false);
    const bool tb = node.attrs().get_bool("transpose_b", false);
    const gemm::Isa isa = gemm::packing_isa(kc.bf16);
    const std::string context = node.context();

    return [ta, tb, isa, context](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const Tensor& a = in[0];
        const Tensor& b = in[1];
        KILN_CHECK(a.rank() >= 2 && b.rank() >= 2, context, " operands must be at least 2-D, got ",
                   to_string(a.shape()), " and ", to_string(b.shape()));
        const BatchPlan p = plan_batch(context, a.shape(), b.shape(), ta, tb);
        Tensor c(ElementType::f32, p.out_shape);
        out.assign(1, c);
        if (p.count == 0 || p.m == 0 || p.n == 0 || p.k == 0) return;  // c starts zeroed
        const float* ad = a.data<float>();
        const float* bd = b.data<float>();
        float* cd = c.data<float>();
        const int64_t a_mat = p.m * p.k, b_mat = p.k * p.n, c_mat = p.m * p.n;
        const int64_t lda = ta ? p.m : p.k, ldb = tb ? p.k : p.n;
        ThreadPool& pool = threads_of(ctx);
        if (p.count < 2 * pool.concurrency()) {
            // Few matrices: split each product over the pool instead.
            for (int64_t bi = 0; bi < p.count; ++bi) {
                const gemm::PackedB packed =
                    gemm::pack_b(bd + p.b_index[bi] * b_mat, p.k, p.n, ldb, tb, isa);
                parallel_gemm(pool, ad + p.a_index[bi] * a_mat, lda, ta, packed, cd + bi * c_mat,
                              p.n, p.m);
            }
            return;
        }
        pool.parallel_for(0, p.count, p.m * p.n * p.k, [&](int64_t lo, int64_t hi) {
            gemm::GemmOptions o;
            o.trans_a = ta;
            for (int64_t bi = lo; bi < hi; ++bi) {
                const gemm::PackedB packed =
                    gemm::pack_b(bd + p.b_index[bi] * b_mat, p.k, p.n, ldb, tb, isa);
                gemm::gemm(ad + p.a_index[bi] * a_mat, lda, packed, cd + bi * c_mat, p.n, p.m, o);
            }
        });
    };
}

}  // namespace kiln::cpu
