#pragma once
/// \file The runtime API: Core reads and compiles models, CompiledModel makes InferRequests,
/// InferRequest runs inference. The names follow OpenVINO's so its users feel at home.
#include <any>
#include <chrono>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/model.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

/// Properties as name -> text value (e.g. {"PERFORMANCE_HINT", "LATENCY"}).
using AnyMap = std::map<std::string, std::string>;

namespace cpu {
class CompiledModel;
class InferRequest;
}  // namespace cpu

/// The time one operation of the executed graph took in the last inference (PERF_COUNT=YES).
struct ProfilingInfo {
    enum class Status { NOT_RUN, OPTIMIZED_OUT, EXECUTED };
    Status status = Status::NOT_RUN;
    std::chrono::nanoseconds real_time{0};
    std::string node_name;
    std::string node_type;
    /// Which implementation ran: "optimized" (a CPU device kernel) or "reference".
    std::string exec_type;
};

class InferRequest {
public:
    /// Binds an input by tensor name; the element type must match and the shape must fit the
    /// model's (partial) input shape.
    void set_tensor(const std::string& name, const Tensor& tensor);
    void set_input_tensor(size_t index, const Tensor& tensor);
    void set_input_tensor(const Tensor& tensor) { set_input_tensor(0, tensor); }
    /// An input or output by tensor name (outputs are valid after infer()).
    Tensor get_tensor(const std::string& name) const;
    Tensor get_input_tensor(size_t index = 0) const;
    Tensor get_output_tensor(size_t index = 0) const;
    /// Runs inference synchronously, on the calling thread (kernels use the request's stream's
    /// threads).
    void infer();
    /// Starts inference on the request's stream and returns at once. While it runs, the request
    /// may only be waited for; its callback may read outputs, set inputs and start it again.
    void start_async();
    /// Waits for the inference started last and its callback; rethrows its error.
    void wait();
    /// Waits at most `timeout`; true when the inference has ended (its error is rethrown).
    bool wait_for(std::chrono::milliseconds timeout);
    /// Called on the stream's thread when an asynchronous inference ends, with its error or
    /// null. It must not wait for its own request.
    void set_callback(std::function<void(std::exception_ptr)> callback);
    /// Per-operation times of the last inference; needs PERF_COUNT=YES at compile time.
    std::vector<ProfilingInfo> get_profiling_info() const;
    /// Forgets the values of state variables (stateful models).
    void reset_state();

private:
    friend class CompiledModel;
    std::shared_ptr<cpu::InferRequest> impl_;
};

class CompiledModel {
public:
    OutputVector inputs() const;
    OutputVector outputs() const;
    Output input(const std::string& name) const;
    Output output(const std::string& name) const;
    InferRequest create_infer_request() const;
    /// A property of the compiled model, resolved: PERFORMANCE_HINT, NUM_STREAMS,
    /// INFERENCE_NUM_THREADS, INFERENCE_PRECISION_HINT, KV_CACHE_PRECISION,
    /// OPTIMAL_NUMBER_OF_INFER_REQUESTS,
    /// CACHE_DIR, PERF_COUNT, EXECUTION_DEVICES (the device AUTO picked), LOADED_FROM_CACHE.
    std::string get_property(const std::string& name) const;
    /// The graph the device executes.
    std::shared_ptr<const Model> get_runtime_model() const;

private:
    friend class Core;
    std::shared_ptr<cpu::CompiledModel> impl_;
    std::string device_;
    bool loaded_from_cache_ = false;
};

/// A pool of infer requests fed from one thread (OpenVINO's AsyncInferQueue): start_async()
/// takes an idle request (waiting for one when all are busy), sets its inputs and starts it; the
/// callback sees each finished request with the userdata given to start_async.
class AsyncInferQueue {
public:
    /// error: null, or the failure of this inference. Runs on a stream thread; it must not wait
    /// for the queue.
    using Callback =
        std::function<void(InferRequest& request, const std::any& userdata, std::exception_ptr error)>;

    /// `jobs` requests; 0 takes the model's OPTIMAL_NUMBER_OF_INFER_REQUESTS.
    explicit AsyncInferQueue(const CompiledModel& model, size_t jobs = 0);
    /// Waits for every request.
    ~AsyncInferQueue();
    AsyncInferQueue(const AsyncInferQueue&) = delete;
    AsyncInferQueue& operator=(const AsyncInferQueue&) = delete;

    size_t size() const;
    InferRequest& operator[](size_t i);
    void set_callback(Callback callback);
    /// Inputs in model order (an empty vector keeps the request's current inputs).
    void start_async(const std::vector<Tensor>& inputs = {}, std::any userdata = {});
    void start_async(const std::map<std::string, Tensor>& inputs, std::any userdata = {});
    /// True when a request is idle, so start_async will not wait.
    bool is_ready() const;
    /// Waits until a request is idle and returns its index.
    size_t get_idle_request_id();
    /// Waits for every request. Rethrows the first failure that had no callback to go to, or
    /// the first exception a callback threw.
    void wait_all();

private:
    struct State;
    size_t take_idle();
    void launch(size_t id, std::any userdata);
    std::shared_ptr<State> state_;
};

class Core {
public:
    /// Reads .onnx or .xml (IR; the .bin beside it unless `weights_path` is given), or a folder:
    /// its model.xml or openvino_model.xml when it holds one (a converted model), else a Hugging
    /// Face causal-LM folder (config.json and safetensors; see kiln/hf.hpp).
    std::shared_ptr<Model> read_model(const std::string& path,
                                      const std::string& weights_path = "") const;
    /// Compiles a copy of `model`, which the caller keeps unchanged.
    CompiledModel compile_model(const std::shared_ptr<const Model>& model,
                                const std::string& device = "CPU",
                                const AnyMap& properties = {}) const;
    /// Takes the model over when the caller gives away its last reference
    /// (`compile_model(std::move(model))`): the device transforms it in place instead of copying
    /// it and frees each weight as soon as its packed copy is made, so the original weights and
    /// the packed ones are never all in memory at once. With other references alive it compiles
    /// a copy, as above.
    CompiledModel compile_model(std::shared_ptr<Model>&& model, const std::string& device = "CPU",
                                const AnyMap& properties = {}) const;
    /// With CACHE_DIR set, the compiled graph is cached there, keyed by the file's bytes, the
    /// properties, the Kiln version and the ISA (for a folder: its config.json, safetensors and
    /// IR files); a later compile of the same file loads it
    /// instead of reading and transforming the model again (see docs/ARCHITECTURE.md).
    CompiledModel compile_model(const std::string& path, const std::string& device = "CPU",
                                const AnyMap& properties = {}) const;
    std::vector<std::string> get_available_devices() const;
};

}  // namespace kiln
