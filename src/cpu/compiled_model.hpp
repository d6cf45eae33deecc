#pragma once
// The CPU device's compiled model and infer request. The plan is bound once at compile time:
// nodes with an optimized kernel (cpu/kernel_selector.cpp) run it, the others their reference
// kernel.
#include <map>
#include <memory>

#include "cpu/thread_pool.hpp"
#include "kiln/runtime.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

class CompiledModel {
public:
    CompiledModel(std::shared_ptr<const Model> model, const AnyMap& properties);
    const Model& model() const { return *model_; }
    std::shared_ptr<const Model> model_ptr() const { return model_; }
    const ReferencePlan& plan() const { return plan_; }
    std::string property(const std::string& name) const;

    ThreadPool& pool() const { return *pool_; }

private:
    AnyMap properties_;  // declared first: the pool and the plan are built from it
    std::shared_ptr<const Model> model_;
    std::unique_ptr<ThreadPool> pool_;
    ReferencePlan plan_;
};

class InferRequest {
public:
    explicit InferRequest(std::shared_ptr<const CompiledModel> compiled);
    void set_input(size_t index, const Tensor& t);
    const Tensor& input(size_t index) const { return inputs_.at(index); }
    const Tensor& output(size_t index) const;
    void infer();
    void reset_state() { variables_.clear(); }
    const CompiledModel& compiled() const { return *compiled_; }

private:
    std::shared_ptr<const CompiledModel> compiled_;
    TensorVector inputs_;
    TensorVector outputs_;
    std::map<std::string, Tensor> variables_;
};

}  // namespace kiln::cpu
