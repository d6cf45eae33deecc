#include <filesystem>

#include "cpu/compiled_model.hpp"
#include "kiln/hf.hpp"
#include "kiln/ir.hpp"
#include "kiln/onnx.hpp"
#include "kiln/runtime.hpp"
#include "runtime/model_cache.hpp"
#include "transforms/pass_manager.hpp"

namespace kiln {

namespace {

std::string lower_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

void check_device(const std::string& device) {
    KILN_CHECK(device == "CPU" || device == "AUTO", "unknown device '", device,
               "'; available devices: CPU, AUTO");
}

/// The graph the CPU device runs: `model` after the common and CPU passes, transformed in place
/// when nobody else holds it, else a clone of it.
std::shared_ptr<Model> runtime_graph(std::shared_ptr<Model>&& model) {
    KILN_CHECK(model, "compile_model: null model");
    std::shared_ptr<Model> graph = model.use_count() == 1 ? std::move(model) : model->clone();
    run_common_passes(*graph);
    run_cpu_passes(*graph);
    return graph;
}

}  // namespace

std::shared_ptr<Model> Core::read_model(const std::string& path,
                                        const std::string& weights_path) const {
    KILN_CHECK(std::filesystem::exists(path), "model file '", path, "' does not exist");
    if (std::filesystem::is_directory(path)) {
        // A converted folder holds the IR beside a copy of config.json: the IR is the model, as
        // LLMPipeline reads it.
        if (const std::string ir = ir_in_folder(path); !ir.empty()) return read_ir(ir, weights_path);
        KILN_CHECK(is_hf_model_folder(path), "cannot read folder '", path,
                   "': it has no config.json (Hugging Face), model.xml or openvino_model.xml");
        return read_hf_model(path);
    }
    const std::string ext = lower_extension(path);
    if (ext == ".onnx") return read_onnx(path);
    if (ext == ".xml") return read_ir(path, weights_path);
    KILN_THROW("cannot read '", path, "': unknown model format '", ext,
               "' (expected .onnx or .xml)");
}

CompiledModel Core::compile_model(const std::shared_ptr<const Model>& model,
                                  const std::string& device, const AnyMap& properties) const {
    KILN_CHECK(model, "compile_model: null model");
    return compile_model(model->clone(), device, properties);  // the clone is the device's own
}

CompiledModel Core::compile_model(std::shared_ptr<Model>&& model, const std::string& device,
                                  const AnyMap& properties) const {
    check_device(device);
    CompiledModel cm;
    cm.impl_ = std::make_shared<cpu::CompiledModel>(runtime_graph(std::move(model)), properties,
                                                    /*owns_model=*/true);
    cm.device_ = "CPU";  // what AUTO picks: the only device
    return cm;
}

CompiledModel Core::compile_model(const std::string& path, const std::string& device,
                                  const AnyMap& properties) const {
    auto dir = properties.find("CACHE_DIR");
    if (dir == properties.end() || dir->second.empty())
        return compile_model(read_model(path), device, properties);
    check_device(device);
    KILN_CHECK(std::filesystem::exists(path), "model file '", path, "' does not exist");
    const ModelCache cache(dir->second, path, properties);
    CompiledModel cm;
    cm.device_ = "CPU";
    std::shared_ptr<Model> graph = cache.load();
    cm.loaded_from_cache_ = graph != nullptr;
    if (!graph) {
        graph = runtime_graph(read_model(path));
        cache.store(*graph);  // before the compiled model empties the constants it packs
    }
    cm.impl_ = std::make_shared<cpu::CompiledModel>(graph, properties, /*owns_model=*/true);
    return cm;
}

std::vector<std::string> Core::get_available_devices() const { return {"CPU"}; }

OutputVector CompiledModel::inputs() const { return impl_->model().inputs(); }
OutputVector CompiledModel::outputs() const { return impl_->model().outputs(); }
Output CompiledModel::input(const std::string& name) const { return impl_->model().input(name); }
Output CompiledModel::output(const std::string& name) const { return impl_->model().output(name); }
std::string CompiledModel::get_property(const std::string& name) const {
    if (name == "EXECUTION_DEVICES") return device_;
    if (name == "LOADED_FROM_CACHE") return loaded_from_cache_ ? "YES" : "NO";
    return impl_->property(name);
}
std::shared_ptr<const Model> CompiledModel::get_runtime_model() const { return impl_->model_ptr(); }

InferRequest CompiledModel::create_infer_request() const {
    InferRequest r;
    r.impl_ = std::make_shared<cpu::InferRequest>(impl_);
    return r;
}

void InferRequest::set_tensor(const std::string& name, const Tensor& tensor) {
    const Model& m = impl_->compiled().model();
    impl_->set_input(m.parameter_index(name), tensor);
}

void InferRequest::set_input_tensor(size_t index, const Tensor& tensor) {
    impl_->set_input(index, tensor);
}

Tensor InferRequest::get_tensor(const std::string& name) const {
    const Model& m = impl_->compiled().model();
    for (size_t i = 0; i < m.parameters().size(); ++i)
        if (m.parameters()[i]->output_info(0).names.count(name)) return impl_->input(i);
    return impl_->output(m.result_index(name));
}

Tensor InferRequest::get_input_tensor(size_t index) const { return impl_->input(index); }
Tensor InferRequest::get_output_tensor(size_t index) const { return impl_->output(index); }
void InferRequest::infer() { impl_->infer(); }
void InferRequest::start_async() { impl_->start_async(); }
void InferRequest::wait() { impl_->wait(); }
bool InferRequest::wait_for(std::chrono::milliseconds timeout) { return impl_->wait_for(timeout); }
void InferRequest::set_callback(std::function<void(std::exception_ptr)> callback) {
    impl_->set_callback(std::move(callback));
}
std::vector<ProfilingInfo> InferRequest::get_profiling_info() const {
    return impl_->profiling_info();
}
void InferRequest::reset_state() { impl_->reset_state(); }

}  // namespace kiln
