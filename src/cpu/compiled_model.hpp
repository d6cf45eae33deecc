#pragma once
// The CPU device's compiled model and infer request. The plan is bound once at compile time:
// nodes with an optimized kernel (cpu/kernel_selector.cpp) run it, the others their reference
// kernel. The compiled model owns NUM_STREAMS streams (cpu/stream.hpp); each request is bound to
// one of them, round robin, and runs its kernels on that stream's threads.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "cpu/buffer_pool.hpp"
#include "cpu/config.hpp"
#include "cpu/stream.hpp"
#include "kiln/runtime.hpp"
#include "ops/reference_executor.hpp"

namespace kiln::cpu {

class CompiledModel {
public:
    /// With `owns_model` (the model is a clone nobody else sees, as Core makes), the Const
    /// nodes that only kernels with their own packed copy read are emptied to save memory.
    CompiledModel(std::shared_ptr<const Model> model, const AnyMap& properties,
                  bool owns_model = false);
    const Model& model() const { return *model_; }
    std::shared_ptr<const Model> model_ptr() const { return model_; }
    const ReferencePlan& plan() const { return plan_; }
    const Config& config() const { return config_; }
    /// A property as the model runs with it (NUM_STREAMS and INFERENCE_NUM_THREADS resolved).
    std::string property(const std::string& name) const;

    size_t stream_count() const { return streams_.size(); }
    Stream& stream(size_t i) const { return *streams_.at(i); }
    /// The stream the next request is bound to (round robin).
    size_t next_stream() const { return next_stream_++ % streams_.size(); }
    /// The first stream's pool (tests and tools that run kernels directly).
    ThreadPool& pool() const { return streams_.front()->pool(); }

private:
    Config config_;  // declared first: the streams and the plan are built from it
    AnyMap properties_;
    std::shared_ptr<const Model> model_;
    std::vector<std::unique_ptr<Stream>> streams_;
    mutable std::atomic<size_t> next_stream_{0};
    ReferencePlan plan_;
};

class InferRequest : public std::enable_shared_from_this<InferRequest> {
public:
    using Callback = std::function<void(std::exception_ptr)>;

    explicit InferRequest(std::shared_ptr<const CompiledModel> compiled);
    void set_input(size_t index, const Tensor& t);
    const Tensor& input(size_t index) const { return inputs_.at(index); }
    const Tensor& output(size_t index) const;
    /// Runs on the calling thread, with the kernels split over the request's stream.
    void infer();
    void reset_state();
    const CompiledModel& compiled() const { return *compiled_; }
    size_t stream_index() const { return stream_; }

    /// Queues the inference on the request's stream and returns at once; the request must be
    /// owned by a shared_ptr. Allowed from the request's own callback (to run it again).
    void start_async();
    /// Waits for the inference started last (and its callback); rethrows its error.
    void wait();
    /// wait() with a limit: false when still running after `timeout`.
    bool wait_for(std::chrono::milliseconds timeout);
    /// Called on the stream's thread when an asynchronous inference ends, with its error or
    /// null; wait() returns once it has run.
    void set_callback(Callback callback);
    /// Per-step times of the last inference (PERF_COUNT=YES), in plan order.
    std::vector<ProfilingInfo> profiling_info() const;
    /// The request's buffer pool (null with KILN_BUFFER_POOL=0).
    const BufferPool* buffers() const { return buffers_.get(); }

private:
    void run();  // the inference itself, on the calling thread
    void finish_async(std::exception_ptr error);
    void check_idle(const char* what) const;  // state_mutex_ held

    std::shared_ptr<const CompiledModel> compiled_;
    size_t stream_;
    TensorVector inputs_;
    TensorVector outputs_;
    std::map<std::string, Tensor> variables_;
    std::vector<int64_t> step_ns_;
    std::unique_ptr<BufferPool> buffers_;  // the tensors an inference allocates

    mutable std::mutex state_mutex_;
    std::condition_variable done_cv_;
    bool busy_ = false;         // an inference (and its callback) is queued or running
    bool in_callback_ = false;  // the callback of the finished inference is running
    bool restarted_ = false;    // the callback started the request again
    std::exception_ptr error_;  // of the last inference
    Callback callback_;
};

}  // namespace kiln::cpu
