#include "cpu/kernels/reduce_f32.hpp"

#include <algorithm>
#include <cmath>

#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "cpu/kernels/elementwise/ew_support.hpp"
#include "ops/reduction/reduction_utils.hpp"

namespace kiln::cpu {
namespace {

// Long rows are summed in blocks whose float sums are added in double, which keeps the error
// of a million-element sum near that of a 4096-element one.
constexpr int64_t kSumBlock = 4096;

float sum_row(const ew::EwKernels& k, const float* x, int64_t n) {
    if (n <= kSumBlock) return k.sum(x, static_cast<size_t>(n));
    double s = 0;
    for (int64_t i = 0; i < n; i += kSumBlock)
        s += k.sum(x + i, static_cast<size_t>(std::min(kSumBlock, n - i)));
    return static_cast<float>(s);
}

// x viewed as [outer, count, inner]; y[o, i] = scale * sum over c of x[o, c, i].
void reduce(ThreadPool& pool, const float* x, float* y, int64_t outer, int64_t count, int64_t inner,
            float scale) {
    const ew::EwKernels& k = ew::ew_kernels();
    if (inner == 1) {
        pool.parallel_for(0, outer, ew::cost_of(count, ew::kCheapCost),
                          [&](int64_t lo, int64_t hi) {
                              for (int64_t o = lo; o < hi; ++o)
                                  y[o] = sum_row(k, x + o * count, count) * scale;
                          });
        return;
    }
    pool.parallel_for(0, outer, ew::cost_of(count * inner, ew::kCheapCost),
                      [&](int64_t lo, int64_t hi) {
                          for (int64_t o = lo; o < hi; ++o) {
                              float* acc = y + o * inner;
                              const float* src = x + o * count * inner;
                              std::fill(acc, acc + inner, 0.f);
                              for (int64_t c = 0; c < count; ++c)
                                  k.accumulate(acc, src + c * inner, static_cast<size_t>(inner));
                              if (scale != 1.f) {
                                  const float s = scale;
                                  k.binary(ew::BinaryOp::mul, ew::Operands::vector_scalar, acc, &s,
                                           acc, static_cast<size_t>(inner));
                              }
                          }
                      });
}

}  // namespace

KernelFn make_reduce_f32_kernel(const Node& node, const KernelContext&) {
    const bool mean = node.type() == "ReduceMean";
    if ((!mean && node.type() != "ReduceSum") || node.input_count() != 2) return {};
    if (node.input_type(0) != ElementType::f32 || !node.input_shape(0).rank_is_static()) return {};
    const Tensor* axes_const = node.input_constant(1);
    if (!axes_const) return {};
    const int64_t rank = node.input_shape(0).rank();
    const std::vector<int64_t> axes = normalize_axes(node, axes_const->to_int_vector(), rank);
    if (axes.empty() || axes.back() - axes.front() + 1 != static_cast<int64_t>(axes.size()))
        return {};
    const bool keep = node.attrs().get_bool("keep_dims", false);
    const int64_t first = axes.front(), last = axes.back();
    const std::string context = node.context();

    return [=](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const Tensor& x = in[0];
        KILN_CHECK(x.rank() == rank, context, " input has shape ", to_string(x.shape()),
                   ", expected rank ", rank);
        const Shape& s = x.shape();
        int64_t outer = 1, count = 1, inner = 1;
        for (int64_t d = 0; d < rank; ++d) (d < first ? outer : d <= last ? count : inner) *= s[d];
        Tensor y = ew::uninitialized_tensor(ElementType::f32, reduced_shape(s, axes, keep));
        float* dst = y.data<float>();
        if (count == 0) {
            // An empty reduction sums to 0; its mean is 0 / 0.
            std::fill(dst, dst + y.size(), mean ? NAN : 0.f);
        } else {
            const float scale = mean ? 1.f / static_cast<float>(count) : 1.f;
            reduce(threads_of(ctx), x.data<float>(), dst, outer, count, inner, scale);
        }
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
