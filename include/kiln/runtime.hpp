#pragma once
/// \file The runtime API: Core reads and compiles models, CompiledModel makes InferRequests,
/// InferRequest runs inference. The names follow OpenVINO's so its users feel at home.
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
    /// Runs inference synchronously.
    void infer();
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
    /// A property of the compiled model (the hints and settings it runs with).
    std::string get_property(const std::string& name) const;
    /// The graph the device executes.
    std::shared_ptr<const Model> get_runtime_model() const;

private:
    friend class Core;
    std::shared_ptr<cpu::CompiledModel> impl_;
};

class Core {
public:
    /// Reads .onnx or .xml (IR; the .bin beside it unless `weights_path` is given).
    std::shared_ptr<Model> read_model(const std::string& path,
                                      const std::string& weights_path = "") const;
    CompiledModel compile_model(const std::shared_ptr<const Model>& model,
                                const std::string& device = "CPU",
                                const AnyMap& properties = {}) const;
    CompiledModel compile_model(const std::string& path, const std::string& device = "CPU",
                                const AnyMap& properties = {}) const;
    std::vector<std::string> get_available_devices() const;
};

}  // namespace kiln
