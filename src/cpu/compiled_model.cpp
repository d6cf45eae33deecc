#include "cpu/compiled_model.hpp"

#include "cpu/kernel_selector.hpp"

#include <atomic>
#include <unordered_map>

namespace kiln::cpu {

namespace {

/// Every node's device kernel, built on `threads` threads: packing the weights is most of the
/// compile time of a CNN or a transformer, and the nodes are independent.
///
/// With `release_packed`, a constant is emptied as soon as every node that reads it has taken a
/// packed copy, while the other kernels are still being built: the original weights and all the
/// packed copies then never coexist, which halves a transformer's peak memory during compile
/// when the caller has given the model away (Core::compile_model with an rvalue).
std::unordered_map<const Node*, PlannedKernel> select_kernels(const Model& model,
                                                              const Config& config,
                                                              bool release_packed) {
    std::vector<const Node*> nodes;
    std::unordered_map<const Node*, std::atomic<int>> const_readers;
    for (const auto& n : model.ordered_ops()) {
        if (n->type() == "Const" || n->type() == "Parameter") continue;
        if (n->type() != "Result") nodes.push_back(n.get());
        for (size_t i = 0; i < n->input_count(); ++i)
            if (n->input(i).node->type() == "Const") ++const_readers[n->input(i).node.get()];
    }
    std::vector<PlannedKernel> kernels(nodes.size());
    SharedPacks shared;  // the kernels keep what they take from it
    std::unordered_map<const Node*, int> readers;  // as counted, before any release
    for (const auto& [node, count] : const_readers) readers.emplace(node, count.load());
    ThreadPool pool(config.threads);
    pool.parallel_for(0, static_cast<int64_t>(nodes.size()), ThreadPool::kInlineCost,
                      [&](int64_t lo, int64_t hi) {
                          for (int64_t i = lo; i < hi; ++i) {
                              const KernelContext kc{config.precision == "bf16",
                                                     config.kv_cache_precision == "f16",
                                                     &shared, &readers};
                              KernelFn fn = select_kernel(*nodes[i], kc);
                              if (release_packed && fn)
                                  for (size_t input : kc.own_copies) {
                                      const auto& src = nodes[i]->input(input).node;
                                      auto it = const_readers.find(src.get());
                                      if (it != const_readers.end() && --it->second == 0)
                                          src->release_value();
                                  }
                              kernels[i] = PlannedKernel(std::move(fn), kc.own_copies);
                          }
                      });
    std::unordered_map<const Node*, PlannedKernel> by_node;
    for (size_t i = 0; i < nodes.size(); ++i) by_node.emplace(nodes[i], std::move(kernels[i]));
    return by_node;
}

}  // namespace

CompiledModel::CompiledModel(std::shared_ptr<const Model> model, const AnyMap& properties,
                             bool owns_model)
    : config_(resolve_config(properties, ThreadPool::hardware_threads())),
      properties_(config_.to_properties()),
      model_(std::move(model)),
      plan_(model_, [kernels = select_kernels(*model_, config_, owns_model)](const Node& n) {
          auto it = kernels.find(&n);
          return it == kernels.end() ? PlannedKernel() : it->second;
      }) {
    // With owns_model, select_kernels already emptied every constant that only packed kernels
    // read (the plan's unbound constants), so the weights are held once, in the packed layout.
    for (int threads : config_.stream_threads) streams_.push_back(std::make_unique<Stream>(threads));
}

std::string CompiledModel::property(const std::string& name) const {
    auto it = properties_.find(name);
    KILN_CHECK(it != properties_.end(), "CPU: unknown property '", name, "'");
    return it->second;
}

InferRequest::InferRequest(std::shared_ptr<const CompiledModel> compiled)
    : compiled_(std::move(compiled)),
      stream_(compiled_->next_stream()),
      inputs_(compiled_->model().parameters().size()),
      buffers_(BufferPool::enabled() ? std::make_unique<BufferPool>() : nullptr) {}

void InferRequest::check_idle(const char* what) const {
    // The callback may read outputs and set inputs of its own request, e.g. to run it again.
    const bool own_callback =
        in_callback_ && !restarted_ && compiled_->stream(stream_).on_executor();
    KILN_CHECK(!busy_ || own_callback, what, ": the infer request is busy (call wait() first)");
}

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
    std::lock_guard<std::mutex> lock(state_mutex_);
    check_idle("set_tensor");
    inputs_[index] = t;
}

const Tensor& InferRequest::output(size_t index) const {
    KILN_CHECK(index < compiled_->model().results().size(), "output index ", index,
               " is out of range: the model has ", compiled_->model().results().size(),
               " outputs");
    std::lock_guard<std::mutex> lock(state_mutex_);
    check_idle("get_tensor");
    KILN_CHECK(index < outputs_.size(), "output ", index, " is not computed yet: call infer()");
    return outputs_[index];
}

void InferRequest::reset_state() {
    std::lock_guard<std::mutex> lock(state_mutex_);
    check_idle("reset_state");
    variables_.clear();
}

void InferRequest::run() {
    const auto& params = compiled_->model().parameters();
    for (size_t i = 0; i < inputs_.size(); ++i)
        KILN_CHECK(!inputs_[i].empty(), "input '", params[i]->output(0).any_name(),
                   "' is not set");
    AllocatorScope allocations(buffers_.get());
    ExecContext ctx;
    ctx.variables = &variables_;
    ctx.threads = &compiled_->stream(stream_).pool();
    outputs_.clear();
    outputs_ = compiled_->plan().run(inputs_, ctx,
                                     compiled_->config().perf_count ? &step_ns_ : nullptr);
}

void InferRequest::infer() {
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        KILN_CHECK(!busy_, "infer: the infer request is busy (call wait() first)");
        busy_ = true;
        error_ = nullptr;
    }
    std::exception_ptr error;
    try {
        run();
    } catch (...) {
        error = std::current_exception();
    }
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        busy_ = false;
    }
    done_cv_.notify_all();
    if (error) std::rethrow_exception(error);
}

void InferRequest::start_async() {
    std::shared_ptr<InferRequest> self = weak_from_this().lock();
    KILN_CHECK(self, "start_async: the infer request must be owned by a shared_ptr");
    Stream& stream = compiled_->stream(stream_);
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        if (busy_) {
            // Restarting from the callback: the stream runs the new job after this one ends.
            KILN_CHECK(in_callback_ && !restarted_ && stream.on_executor(),
                       "start_async: the infer request is busy (call wait() first)");
            restarted_ = true;
        }
        busy_ = true;
        error_ = nullptr;
    }
    stream.enqueue([self] {
        std::exception_ptr error;
        try {
            self->run();
        } catch (...) {
            error = std::current_exception();
        }
        self->finish_async(error);
    });
}

void InferRequest::finish_async(std::exception_ptr error) {
    Callback callback;
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        error_ = error;
        callback = callback_;
        in_callback_ = true;
    }
    if (callback) {
        try {
            callback(error);
        } catch (...) {
            // A throwing callback must not kill the stream's thread: wait() reports it.
            if (!error) error = std::current_exception();
        }
    }
    {
        std::lock_guard<std::mutex> lock(state_mutex_);
        in_callback_ = false;
        if (restarted_)
            restarted_ = false;
        else {
            busy_ = false;
            error_ = error;
        }
    }
    done_cv_.notify_all();
}

void InferRequest::wait() {
    std::unique_lock<std::mutex> lock(state_mutex_);
    done_cv_.wait(lock, [&] { return !busy_; });
    if (error_) std::rethrow_exception(error_);
}

bool InferRequest::wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(state_mutex_);
    if (!done_cv_.wait_for(lock, timeout, [&] { return !busy_; })) return false;
    if (error_) std::rethrow_exception(error_);
    return true;
}

void InferRequest::set_callback(Callback callback) {
    std::lock_guard<std::mutex> lock(state_mutex_);
    check_idle("set_callback");
    callback_ = std::move(callback);
}

std::vector<ProfilingInfo> InferRequest::profiling_info() const {
    std::lock_guard<std::mutex> lock(state_mutex_);
    check_idle("get_profiling_info");
    KILN_CHECK(compiled_->config().perf_count,
               "get_profiling_info: compile the model with PERF_COUNT=YES");
    const ReferencePlan& plan = compiled_->plan();
    std::vector<ProfilingInfo> out;
    for (size_t i = 0; i < plan.step_count(); ++i) {
        ProfilingInfo p;
        const Node& n = plan.step_node(i);
        p.node_name = n.name();
        p.node_type = n.type();
        p.exec_type = plan.step_optimized(i) ? "optimized" : "reference";
        const bool ran = i < step_ns_.size();
        p.status = ran ? ProfilingInfo::Status::EXECUTED : ProfilingInfo::Status::NOT_RUN;
        p.real_time = std::chrono::nanoseconds(ran ? step_ns_[i] : 0);
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace kiln::cpu
