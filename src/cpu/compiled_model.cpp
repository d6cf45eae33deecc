#include "cpu/compiled_model.hpp"

#include "cpu/kernel_selector.hpp"

#include <cstdlib>

namespace kiln::cpu {

namespace {

const AnyMap kDefaults = {
    {"PERFORMANCE_HINT", "LATENCY"},
    {"INFERENCE_PRECISION_HINT", "f32"},
    {"NUM_STREAMS", "1"},
    {"INFERENCE_NUM_THREADS", "0"},
};

AnyMap merge_properties(const AnyMap& given) {
    AnyMap props = kDefaults;
    for (const auto& [k, v] : given) {
        KILN_CHECK(kDefaults.count(k) || k == "CACHE_DIR", "CPU: unsupported property '", k, "'");
        props[k] = v;
    }
    // INFERENCE_NUM_THREADS: 0 means every hardware thread; reported back as the number used.
    const std::string& t = props["INFERENCE_NUM_THREADS"];
    char* end = nullptr;
    const long n = std::strtol(t.c_str(), &end, 10);
    KILN_CHECK(!t.empty() && *end == '\0' && n >= 0 && n <= 1024,
               "CPU: INFERENCE_NUM_THREADS must be a number of threads (0 = all), got '", t, "'");
    props["INFERENCE_NUM_THREADS"] =
        std::to_string(n == 0 ? ThreadPool::hardware_threads() : static_cast<int>(n));
    return props;
}

}  // namespace

CompiledModel::CompiledModel(std::shared_ptr<const Model> model, const AnyMap& properties)
    : properties_(merge_properties(properties)),
      model_(std::move(model)),
      pool_(std::make_unique<ThreadPool>(std::stoi(properties_.at("INFERENCE_NUM_THREADS")))),
      plan_(model_, [this](const Node& n) {
          const KernelContext kc{properties_.at("INFERENCE_PRECISION_HINT") == "bf16"};
          return select_kernel(n, kc);
      }) {}

std::string CompiledModel::property(const std::string& name) const {
    auto it = properties_.find(name);
    KILN_CHECK(it != properties_.end(), "CPU: unknown property '", name, "'");
    return it->second;
}

InferRequest::InferRequest(std::shared_ptr<const CompiledModel> compiled)
    : compiled_(std::move(compiled)), inputs_(compiled_->model().parameters().size()) {}

void InferRequest::set_input(size_t index, const Tensor& t) {
    const auto& params = compiled_->model().parameters();
    KILN_CHECK(index < params.size(), "input index ", index, " is out of range: the model has ",
               params.size(), " inputs");
    const Output port = params[index]->output(0);
    KILN_CHECK(!t.empty(), "input '", port.any_name(), "': empty tensor");
    KILN_CHECK(t.element_type() == port.element_type(), "input '", port.any_name(),
               "' expects element type ", to_string(port.element_type()), ", got ",
               to_string(t.element_type()));
    KILN_CHECK(port.partial_shape().compatible(t.shape()), "input '", port.any_name(),
               "' expects shape ", to_string(port.partial_shape()), ", got ",
               to_string(t.shape()));
    inputs_[index] = t;
}

const Tensor& InferRequest::output(size_t index) const {
    KILN_CHECK(index < compiled_->model().results().size(), "output index ", index,
               " is out of range: the model has ", compiled_->model().results().size(),
               " outputs");
    KILN_CHECK(index < outputs_.size(), "output ", index, " is not computed yet: call infer()");
    return outputs_[index];
}

void InferRequest::infer() {
    const auto& params = compiled_->model().parameters();
    for (size_t i = 0; i < inputs_.size(); ++i)
        KILN_CHECK(!inputs_[i].empty(), "input '", params[i]->output(0).any_name(),
                   "' is not set");
    ExecContext ctx;
    ctx.variables = &variables_;
    ctx.threads = &compiled_->pool();
    outputs_ = compiled_->plan().run(inputs_, ctx);
}

}  // namespace kiln::cpu
