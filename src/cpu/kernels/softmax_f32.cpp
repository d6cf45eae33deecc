#include "cpu/kernels/softmax_f32.hpp"

#include <algorithm>
#include <vector>

#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "cpu/kernels/elementwise/ew_support.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln::cpu {
namespace {

// Columns per task when the axis is not the last one: enough to fill vectors, few enough that
// a [1, C, H, W] softmax over C still splits over threads.
constexpr int64_t kColumnBlock = 256;

void run_softmax(ThreadPool& pool, const float* x, float* y, const AxisSplit& s, bool log) {
    const ew::EwKernels& k = ew::ew_kernels();
    if (s.n == 0 || s.outer == 0 || s.inner == 0) return;
    if (s.inner == 1) {
        pool.parallel_for(0, s.outer, ew::cost_of(s.n, ew::kMathCost), [&](int64_t lo, int64_t hi) {
            for (int64_t r = lo; r < hi; ++r)
                k.softmax_row(x + r * s.n, y + r * s.n, static_cast<size_t>(s.n), log);
        });
        return;
    }
    const int64_t blocks = (s.inner + kColumnBlock - 1) / kColumnBlock;
    const int64_t block_cost = ew::cost_of(s.n * std::min(s.inner, kColumnBlock), ew::kMathCost);
    pool.parallel_for(0, s.outer * blocks, block_cost, [&](int64_t lo, int64_t hi) {
        std::vector<float> scratch(2 * kColumnBlock);
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t o = t / blocks, c0 = (t % blocks) * kColumnBlock;
            const int64_t cols = std::min(kColumnBlock, s.inner - c0);
            const int64_t off = o * s.n * s.inner + c0;
            k.softmax_strided(x + off, y + off, static_cast<size_t>(s.n), static_cast<size_t>(cols),
                              static_cast<size_t>(s.inner), scratch.data(), log);
        }
    });
}

}  // namespace

KernelFn make_softmax_f32_kernel(const Node& node, const KernelContext&) {
    const bool log = node.type() == "LogSoftmax";
    if ((node.type() != "Softmax" && !log) || node.input_count() != 1) return {};
    if (node.input_type(0) != ElementType::f32 || !node.input_shape(0).rank_is_static()) return {};
    const int64_t rank = node.input_shape(0).rank();
    const int64_t axis = normalize_axis(node, node.attrs().get_int("axis", 1), rank);

    return [axis, log](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const Tensor& x = in[0];
        KILN_CHECK(axis < x.rank(), "softmax: axis ", axis, " is out of range for input of shape ",
                   to_string(x.shape()));
        Tensor y = ew::uninitialized_tensor(ElementType::f32, x.shape());
        run_softmax(threads_of(ctx), x.data<float>(), y.data<float>(),
                    split_at_axis(x.shape(), axis), log);
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
