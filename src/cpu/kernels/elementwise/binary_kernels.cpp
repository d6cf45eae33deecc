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

// Runs the plan's rows, splitting long rows into pieces when there are too few rows to keep
// every thread busy.
void run_rows(ThreadPool& pool, const ew::BroadcastPlan& plan, BinaryOp op, const float* a,
              const float* b, float* y, int64_t cost) {
    const ew::EwKernels& k = ew::ew_kernels();
    const int64_t rows = plan.rows(), inner = plan.inner;
    if (rows == 0 || inner == 0) return;
    const int64_t want = 4 * static_cast<int64_t>(pool.concurrency());
    int64_t pieces = 1;
    if (rows < want)
        pieces = std::clamp<int64_t>((want + rows - 1) / rows, 1, inner / kMinPiece + 1);
    const int64_t piece = (inner + pieces - 1) / pieces;
    pieces = (inner + piece - 1) / piece;
    pool.parallel_for(0, rows * pieces, piece * cost, [&](int64_t lo, int64_t hi) {
        int64_t a_off = 0, b_off = 0, row = -1;
        for (int64_t t = lo; t < hi; ++t) {
            const int64_t r = t / pieces;
            if (r != row) {
                row = r;
                plan.row_offsets(row, a_off, b_off);
            }
            const int64_t begin = (t % pieces) * piece;
            const int64_t len = std::min(piece, inner - begin);
            const float* pa = a + a_off + (plan.kind == Operands::scalar_vector ? 0 : begin);
            const float* pb = b + b_off + (plan.kind == Operands::vector_scalar ? 0 : begin);
            k.binary(op, plan.kind, pa, pb, y + row * inner + begin, static_cast<size_t>(len));
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
