#include <algorithm>
#include <cstring>
#include <map>
#include <string>

#include "cpu/kernels/elementwise/broadcast_plan.hpp"
#include "cpu/kernels/elementwise/elementwise_kernels.hpp"
#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "cpu/kernels/elementwise/ew_support.hpp"

namespace kiln::cpu {

using ew::BinaryOp;
using ew::Operands;

namespace {

const std::map<std::string, BinaryOp>& binary_ops() {
    static const std::map<std::string, BinaryOp> ops = {
        {"Add", BinaryOp::add},      {"Subtract", BinaryOp::sub},
        {"Multiply", BinaryOp::mul}, {"Divide", BinaryOp::div},
        {"Maximum", BinaryOp::max},  {"Minimum", BinaryOp::min},
        {"Power", BinaryOp::pow},    {"SquaredDifference", BinaryOp::sqdiff},
    };
    return ops;
}

// Rows shorter than this are split no further: a few long pieces beat many short calls.
constexpr int64_t kMinPiece = 1024;

// Runs the plan's rows: consecutive rows along the innermost outer axis go to one
// binary_rows call, so short rows cost little; long rows are split into pieces when there are
// too few rows to keep every thread busy.
void run_rows(ThreadPool& pool, const ew::BroadcastPlan& plan, BinaryOp op, const float* a,
              const float* b, float* y, int64_t cost_per_64) {
    const ew::EwKernels& k = ew::ew_kernels();
    const int64_t rows = plan.rows(), inner = plan.inner;
    if (rows == 0 || inner == 0) return;
    const size_t n = static_cast<size_t>(inner);
    const int64_t want = 4 * static_cast<int64_t>(pool.concurrency());
    if (rows < want && inner >= 2 * kMinPiece) {
        const int64_t pieces = std::min((want + rows - 1) / rows, inner / kMinPiece);
        const int64_t piece = (inner + pieces - 1) / pieces;
        pool.parallel_for(
            0, rows * pieces, ew::cost_of(piece, cost_per_64), [&](int64_t lo, int64_t hi) {
                for (int64_t t = lo; t < hi; ++t) {
                    const int64_t row = t / pieces, begin = (t % pieces) * piece;
                    const ew::RowStart at(plan, row);
                    const size_t len = static_cast<size_t>(std::min(piece, inner - begin));
                    const float* pa =
                        a + at.a_off + (plan.kind == Operands::scalar_vector ? 0 : begin);
                    const float* pb =
                        b + at.b_off + (plan.kind == Operands::vector_scalar ? 0 : begin);
                    k.binary(op, plan.kind, pa, pb, y + row * inner + begin, len);
                }
            });
        return;
    }
    const int64_t run_extent = plan.outer.empty() ? 1 : plan.outer.back();
    const size_t sa = plan.outer.empty() ? 0 : static_cast<size_t>(plan.a_stride.back());
    const size_t sb = plan.outer.empty() ? 0 : static_cast<size_t>(plan.b_stride.back());
    pool.parallel_for(0, rows, ew::cost_of(inner, cost_per_64), [&](int64_t lo, int64_t hi) {
        for (int64_t row = lo; row < hi;) {
            const ew::RowStart at(plan, row);
            const int64_t run = std::min(hi - row, run_extent - at.last_index);
            k.binary_rows(op, plan.kind, a + at.a_off, b + at.b_off, y + row * inner, n,
                          static_cast<size_t>(run), sa, sb);
            row += run;
        }
    });
}

// Power by a single exponent value that has an exact cheaper form.
bool power_by_scalar(ThreadPool& pool, const Tensor& a, float e, float* y) {
    ew::UnaryOp op;
    if (e == 2.f)
        op = ew::UnaryOp::square;
    else if (e == 3.f)
        op = ew::UnaryOp::cube;
    else if (e == -1.f)
        op = ew::UnaryOp::reciprocal;
    else if (e == 1.f) {
        std::memcpy(y, a.data<float>(), a.byte_size());
        return true;
    } else
        return false;
    const float* x = a.data<float>();
    const ew::EwKernels& k = ew::ew_kernels();
    ew::parallel_elements(pool, a.size(), ew::kCheapCost, [&](int64_t lo, int64_t hi) {
        k.unary(op, {}, x + lo, y + lo, static_cast<size_t>(hi - lo));
    });
    return true;
}

}  // namespace

KernelFn make_binary_f32_kernel(const Node& node, const KernelContext&) {
    const auto it = binary_ops().find(node.type());
    if (it == binary_ops().end() || node.input_count() != 2) return {};
    if (node.input_type(0) != ElementType::f32 || node.input_type(1) != ElementType::f32) return {};
    const std::string mode = node.attrs().get_string("auto_broadcast", "numpy");
    if (mode != "numpy" && mode != "none") return {};
    const bool no_broadcast = mode == "none";
    const BinaryOp op = it->second;
    const int64_t cost = op == BinaryOp::pow ? ew::kMathCost * 4 : ew::kCheapCost;
    const std::string context = node.context();

    return [op, cost, no_broadcast, context](const TensorVector& in, TensorVector& out,
                                             ExecContext& ctx) {
        const Tensor& a = in[0];
        const Tensor& b = in[1];
        KILN_CHECK(!no_broadcast || a.shape() == b.shape(), context,
                   " inputs must have equal shapes without broadcasting, got ",
                   to_string(a.shape()), " and ", to_string(b.shape()));
        const auto plan = ew::plan_broadcast(a.shape(), b.shape());
        KILN_CHECK(plan.has_value(), context, " shapes ", to_string(a.shape()), " and ",
                   to_string(b.shape()), " do not broadcast");
        Tensor y = ew::uninitialized_tensor(ElementType::f32, plan->out);
        ThreadPool& pool = threads_of(ctx);
        if (!(op == BinaryOp::pow && b.size() == 1 && a.size() == y.size() &&
              power_by_scalar(pool, a, b.data<float>()[0], y.data<float>())))
            run_rows(pool, *plan, op, a.data<float>(), b.data<float>(), y.data<float>(), cost);
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
