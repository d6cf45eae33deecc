#include "cpu/kernels/lowbit/fc_compressed_kernel.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "ops/nn/compressed_weights.hpp"

namespace kiln::cpu {

KernelFn make_fc_compressed_kernel(const Node& node, const KernelContext& kc) {
    return make_fc_compressed_kernel(node, kc, lowbit::best_isa());
}

KernelFn make_fc_compressed_kernel(const Node& node, const KernelContext& kc, lowbit::Isa isa) {
    if (node.type() != "FullyConnectedCompressed" || node.input_type(0) != ElementType::f32)
        return {};
    const Tensor* b = node.input_constant(2);
    if (!b || !lowbit::PackedWeights::packable(node, 1, 3, 4)) return {};
    // A tied output projection shares its pack with the embedding lookup (GatherCompressed).
    auto packed = lowbit::PackedWeights::shared(kc.shared_packs, node, 1, 3, 4);
    const int64_t n = packed->n(), k = packed->k();
    std::shared_ptr<const std::vector<float>> bias;
    if (b->size() > 0) {
        if (b->element_type() != ElementType::f32 || b->size() != n) return {};
        bias = std::make_shared<const std::vector<float>>(b->data<float>(), b->data<float>() + n);
    }
    // Weights, bias, scales and zero points all live in the packed copy from here on.
    for (size_t i = 1; i < node.input_count(); ++i) kc.keeps_own_copy(i);
    const lowbit::Kernels* kern = &lowbit::kernels(isa);
    const std::string context = node.context();

    return [packed, bias, n, k, context, kern](const TensorVector& in, TensorVector& out,
                                               ExecContext& ctx) {
        const Tensor& x = in[0];
        KILN_CHECK(x.rank() >= 1 && x.shape().back() == k, context, " input 0 has shape ",
                   to_string(x.shape()), ", its last axis must be ", k);
        Shape out_shape = x.shape();
        out_shape.back() = n;
        Tensor y(ElementType::f32, out_shape);
        const int64_t rows = k > 0 ? x.size() / k : (n > 0 ? y.size() / n : 0);
        if (rows == 0 || n == 0) {
            out.assign(1, std::move(y));
            return;
        }
        ThreadPool& pool = threads_of(ctx);
        // One buffer per calling thread: a stream runs its plan on one thread at a time.
        // (Named through a reference: inside the worker lambdas `tls` would be the worker's own.)
        thread_local lowbit::QuantizedRows tls;
        lowbit::QuantizedRows& qa = tls;
        qa.reset(*packed, rows);
        const float* xd = x.data<float>();
        pool.parallel_for(0, rows, 4 * std::max<int64_t>(k, 1), [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; ++r) kern->quantize_row(xd + r * k, *packed, qa, r);
        });
        // The micro-kernels work on pairs of panels; units of two panels keep the pairs whole.
        const int64_t per_unit = 2;
        const int64_t panels = packed->panels();
        const int64_t units = (panels + per_unit - 1) / per_unit;
        const int64_t cost = rows * packed->padded_k() * lowbit::kPanel * per_unit / 8;
        const float* bd = bias ? bias->data() : nullptr;
        float* yd = y.data<float>();
        pool.parallel_for(0, units, cost, [&](int64_t lo, int64_t hi) {
            kern->gemm(*packed, qa, 0, rows, lo * per_unit, std::min(hi * per_unit, panels), bd,
                      yd, n);
        });
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
