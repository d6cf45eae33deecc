#include "cpu/kernels/elementwise/broadcast_plan.hpp"

namespace kiln::cpu::ew {

int64_t BroadcastPlan::rows() const {
    int64_t r = 1;
    for (int64_t e : outer) r *= e;
    return r;
}

RowStart::RowStart(const BroadcastPlan& plan, int64_t row) {
    for (size_t d = plan.outer.size(); d-- > 0;) {
        const int64_t i = row % plan.outer[d];
        if (d + 1 == plan.outer.size()) last_index = i;
        row /= plan.outer[d];
        a_off += i * plan.a_stride[d];
        b_off += i * plan.b_stride[d];
    }
}

std::optional<BroadcastPlan> plan_broadcast(const Shape& a, const Shape& b) {
    const size_t rank = std::max(a.size(), b.size());
    struct Axis {
        int64_t extent;
        bool a_full, b_full;  // the operand spans this axis (else it is broadcast along it)
    };
    std::vector<Axis> axes;
    BroadcastPlan plan;
    plan.out.resize(rank);
    for (size_t d = 0; d < rank; ++d) {
        const int64_t ea = d + a.size() >= rank ? a[d + a.size() - rank] : 1;
        const int64_t eb = d + b.size() >= rank ? b[d + b.size() - rank] : 1;
        if (ea != eb && ea != 1 && eb != 1) return std::nullopt;
        const int64_t e = ea == 1 ? eb : ea;
        plan.out[d] = e;
        if (e == 1) continue;  // contributes nothing to any offset
        const Axis ax{e, ea == e, eb == e};
        if (!axes.empty() && axes.back().a_full == ax.a_full && axes.back().b_full == ax.b_full)
            axes.back().extent *= e;
        else
            axes.push_back(ax);
    }
    if (axes.empty()) return plan;  // one element
    const Axis last = axes.back();
    axes.pop_back();
    plan.inner = last.extent;
    plan.kind = last.a_full && last.b_full ? Operands::vector_vector
                : last.a_full              ? Operands::vector_scalar
                                           : Operands::scalar_vector;
    int64_t a_run = last.a_full ? last.extent : 1;
    int64_t b_run = last.b_full ? last.extent : 1;
    plan.outer.resize(axes.size());
    plan.a_stride.resize(axes.size());
    plan.b_stride.resize(axes.size());
    for (size_t d = axes.size(); d-- > 0;) {
        plan.outer[d] = axes[d].extent;
        plan.a_stride[d] = axes[d].a_full ? a_run : 0;
        plan.b_stride[d] = axes[d].b_full ? b_run : 0;
        if (axes[d].a_full) a_run *= axes[d].extent;
        if (axes[d].b_full) b_run *= axes[d].extent;
    }
    return plan;
}

}  // namespace kiln::cpu::ew
