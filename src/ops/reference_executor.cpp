#include "ops/reference_executor.hpp"

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

namespace kiln {

ReferencePlan::ReferencePlan(std::shared_ptr<const Model> model, const KernelSelector& select)
    : model_(std::move(model)) {
    auto order = model_->ordered_ops();
    std::unordered_map<const Node*, size_t> first_slot;
    for (const auto& n : order) {
        first_slot[n.get()] = slot_count_;
        slot_count_ += n->output_count();
    }
    std::unordered_set<size_t> pinned;  // never released: constants and results
    for (const auto& p : model_->parameters()) param_slots_.push_back(first_slot.at(p.get()));
    for (const auto& r : model_->results()) {
        const Output& in = r->input(0);
        result_slots_.push_back(first_slot.at(in.node.get()) + in.index);
        pinned.insert(result_slots_.back());
    }
    std::unordered_map<size_t, size_t> last_reader;
    std::unordered_map<size_t, std::shared_ptr<Node>> const_slots;
    for (const auto& n : order) {
        if (n->type() == "Const") {
            const_slots[first_slot.at(n.get())] = n;
            pinned.insert(first_slot.at(n.get()));
            continue;
        }
        if (n->type() == "Parameter" || n->type() == "Result") continue;
        PlannedKernel k = select ? select(*n) : PlannedKernel();
        Step s{n.get(), n->def().eval, std::move(k.fn), {}, first_slot.at(n.get()), {}};
        KILN_CHECK(s.eval || s.kernel, n->context(), " has no reference kernel");
        for (size_t i = 0; i < n->input_count(); ++i) {
            const Output& in = n->input(i);
            const bool unbound = s.kernel && in.node->type() == "Const" &&
                                 std::count(k.unbound_inputs.begin(), k.unbound_inputs.end(), i);
            s.in_slots.push_back(unbound ? kNoSlot : first_slot.at(in.node.get()) + in.index);
        }
        for (size_t slot : s.in_slots)
            if (slot != kNoSlot) last_reader[slot] = steps_.size();
        steps_.push_back(std::move(s));
    }
    for (const auto& [slot, step] : last_reader)
        if (!pinned.count(slot)) steps_[step].release.push_back(slot);
    std::unordered_set<size_t> results(result_slots_.begin(), result_slots_.end());
    for (const auto& n : order) {  // in graph order, so that plans are deterministic
        if (n->type() != "Const") continue;
        const size_t slot = first_slot.at(n.get());
        if (last_reader.count(slot) || results.count(slot)) constants_.emplace_back(slot, n->value());
    }
}

TensorVector ReferencePlan::run(const TensorVector& inputs, ExecContext& ctx,
                                std::vector<int64_t>* step_ns) const {
    KILN_CHECK(inputs.size() == param_slots_.size(), "model '", model_->name(), "' expects ",
               param_slots_.size(), " inputs, got ", inputs.size());
    TensorVector slots(slot_count_);
    for (size_t i = 0; i < inputs.size(); ++i) slots[param_slots_[i]] = inputs[i];
    for (const auto& [slot, value] : constants_) slots[slot] = value;
    TensorVector ins, outs;
    if (step_ns) step_ns->assign(steps_.size(), 0);
    for (size_t si = 0; si < steps_.size(); ++si) {
        const Step& s = steps_[si];
        const auto start = step_ns ? std::chrono::steady_clock::now()
                                   : std::chrono::steady_clock::time_point();
        ins.clear();
        for (size_t slot : s.in_slots) ins.push_back(slot == kNoSlot ? Tensor() : slots[slot]);
        outs.clear();
        try {
            if (s.kernel)
                s.kernel(ins, outs, ctx);
            else
                s.eval(*s.node, ins, outs, ctx);
        } catch (const Error& e) {
            const std::string msg = e.what();
            if (msg.rfind(s.node->context(), 0) == 0) throw;
            throw Error(str_cat(s.node->context(), " ", msg));
        }
        KILN_CHECK(outs.size() == s.node->output_count(), s.node->context(), " produced ",
                   outs.size(), " outputs, expected ", s.node->output_count());
        for (size_t i = 0; i < outs.size(); ++i) slots[s.first_out_slot + i] = std::move(outs[i]);
        for (size_t slot : s.release) slots[slot] = Tensor();
        if (step_ns)
            (*step_ns)[si] = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
    }
    TensorVector results;
    for (size_t slot : result_slots_) results.push_back(slots[slot]);
    return results;
}

size_t ReferencePlan::device_kernel_count() const {
    size_t n = 0;
    for (const auto& s : steps_) n += static_cast<bool>(s.kernel);
    return n;
}

TensorVector evaluate_model(const Model& model, const TensorVector& inputs, ExecContext* ctx) {
    // The plan only reads the model; a non-owning pointer avoids copying the graph.
    ReferencePlan plan(std::shared_ptr<const Model>(&model, [](const Model*) {}));
    ExecContext local;
    std::map<std::string, Tensor> vars;
    local.variables = &vars;
    return plan.run(inputs, ctx ? *ctx : local);
}

}  // namespace kiln
