#include "cpu/kernels/matmul_f32.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "cpu/kernels/gemm/gemm.hpp"
#include "cpu/kernels/parallel_gemm.hpp"

namespace kiln::cpu {

KernelFn make_matmul_f32_kernel(const Node& node, const KernelContext& kc) {
    const bool fc = node.type() == "FullyConnected";
    if (!fc && (node.type() != "MatMul" || node.input_count() != 2)) return {};
    if (node.attrs().get_bool("transpose_a", false)) return {};
    const Tensor* w = node.input_constant(1);
    const PartialShape& a_shape = node.input_shape(0);
    if (!w || w->element_type() != ElementType::f32 || w->rank() != 2) return {};
    if (node.input_type(0) != ElementType::f32 || !a_shape.rank_is_static() || a_shape.rank() < 2)
        return {};
    const bool trans_b = node.attrs().get_bool("transpose_b", false);
    const int64_t k = trans_b ? w->shape()[1] : w->shape()[0];
    const int64_t n = trans_b ? w->shape()[0] : w->shape()[1];
    std::shared_ptr<const std::vector<float>> bias;
    if (fc) {
        const Tensor* b = node.input_constant(2);
        if (!b || b->element_type() != ElementType::f32 || b->size() != n) return {};
        bias = std::make_shared<const std::vector<float>>(b->data<float>(), b->data<float>() + n);
    }
    auto packed = std::make_shared<const gemm::PackedB>(
        gemm::pack_b(w->data<float>(), k, n, w->shape()[1], trans_b, gemm::packing_isa(kc.bf16)));
    const std::string context = node.context();
    kc.keeps_own_copy(1);

    return [packed, bias, k, n, context](const TensorVector& in, TensorVector& out,
                                         ExecContext& ctx) {
        const Tensor& a = in[0];
        KILN_CHECK(a.rank() >= 2 && a.shape().back() == k, context, " input 0 has shape ",
                   to_string(a.shape()), ", its last axis must be ", k);
        Shape out_shape = a.shape();
        out_shape.back() = n;
        Tensor c(ElementType::f32, out_shape);
        const int64_t rows = n > 0 ? c.size() / n : 0;
        float* cd = c.data<float>();
        if (rows > 0 && k > 0) {
            GemmBlockFn add_bias;
            if (bias)
                add_bias = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
                    const float* bv = bias->data();
                    for (int64_t r = r0; r < r1; ++r) {
                        float* row = cd + r * n;
                        for (int64_t j = c0; j < c1; ++j) row[j] += bv[j];
                    }
                };
            parallel_gemm(threads_of(ctx), a.data<float>(), k, false, *packed, cd, n, rows,
                          add_bias);
        } else if (bias) {
            // An empty product is zero: the result is the bias alone.
            for (int64_t r = 0; r < rows; ++r) std::copy(bias->begin(), bias->end(), cd + r * n);
        }
        out.assign(1, std::move(c));
    };
}

}  // namespace kiln::cpu
