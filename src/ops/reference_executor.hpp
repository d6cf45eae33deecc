#pragma once
// Runs a model with the reference kernels: the graph is ordered and bound to tensor slots once,
// then every run just walks the steps. Control-flow ops use it for their bodies, and the CPU
// device uses it for ops that have no optimized kernel.
#include <functional>
#include <memory>

#include "core/op_def.hpp"

namespace kiln {

/// A device kernel bound to one node at compile time (it may own repacked weights).
using KernelFn = std::function<void(const TensorVector& inputs, TensorVector& outputs, ExecContext&)>;
/// A device kernel and the inputs it does not need bound (it keeps its own copy of those
/// constants, e.g. packed weights): the plan passes empty tensors there.
struct PlannedKernel {
    PlannedKernel(KernelFn f = {}, std::vector<size_t> unbound = {})
        : fn(std::move(f)), unbound_inputs(std::move(unbound)) {}
    KernelFn fn;
    std::vector<size_t> unbound_inputs;
};
/// Picks a device kernel for a node, or returns an empty function to keep the reference kernel.
using KernelSelector = std::function<PlannedKernel(const Node&)>;

class ReferencePlan {
public:
    explicit ReferencePlan(std::shared_ptr<const Model> model, const KernelSelector& select = {});

    /// Inputs in parameter order; returns outputs in result order. With `step_ns`, also the
    /// time of every step in nanoseconds (resized to step_count()).
    TensorVector run(const TensorVector& inputs, ExecContext& ctx,
                     std::vector<int64_t>* step_ns = nullptr) const;
    const Model& model() const { return *model_; }
    /// How many steps run a device kernel instead of the reference one.
    size_t device_kernel_count() const;
    size_t step_count() const { return steps_.size(); }
    const Node& step_node(size_t i) const { return *steps_.at(i).node; }
    /// Whether step i runs a device kernel.
    bool step_optimized(size_t i) const { return static_cast<bool>(steps_.at(i).kernel); }

private:
    struct Step {
        const Node* node;
        EvalFn eval;
        KernelFn kernel;  // when set, replaces eval
        std::vector<size_t> in_slots;  // kNoSlot: an unbound input, passed empty
        size_t first_out_slot;
        std::vector<size_t> release;  // slots whose last reader is this step
    };
    static constexpr size_t kNoSlot = SIZE_MAX;
    std::shared_ptr<const Model> model_;
    std::vector<Step> steps_;
    std::vector<size_t> param_slots_;
    std::vector<size_t> result_slots_;
    std::vector<std::pair<size_t, Tensor>> constants_;
    size_t slot_count_ = 0;
};

/// One-off evaluation (builds a plan each call).
TensorVector evaluate_model(const Model& model, const TensorVector& inputs,
                            ExecContext* ctx = nullptr);

}  // namespace kiln
