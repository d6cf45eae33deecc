// kiln run: run a model on input tensors read from files and write its outputs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "kiln/runtime.hpp"
#include "tensor_files.hpp"

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;

struct RunOptions {
    std::string model;
    std::string input_dir;
    std::vector<std::string> inputs;  // NAME=FILE, or FILE for a single-input model
    std::string output_dir;
    std::string format = "pb";
    std::string device = "CPU";
    std::string precision;  // INFERENCE_PRECISION_HINT, when given
    std::string expected_dir;
    double rtol = 1e-3;
    double atol = 1e-5;
};

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

bool is_dir(const std::string& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

/// input_K.pb or input_K.npy in `dir` (`stem` is "input_K"), or an empty path.
fs::path find_indexed_file(const std::string& dir, const std::string& stem) {
    for (const char* ext : {".pb", ".npy"}) {
        fs::path p = fs::path(dir) / (stem + ext);
        if (is_file(p)) return p;
    }
    return {};
}

/// Which file feeds each model input, by input index.
std::map<size_t, std::string> resolve_inputs(const RunOptions& opt, const Model& model) {
    std::map<size_t, std::string> files;
    const size_t count = model.parameters().size();
    for (const std::string& spec : opt.inputs) {
        const size_t eq = spec.find('=');
        if (eq == std::string::npos) {
            KILN_CHECK(count == 1, "--input '", spec, "' has no NAME=; the model has ", count,
                       " inputs, so say which one (NAME=FILE)");
            files[0] = spec;
            continue;
        }
        const std::string name = spec.substr(0, eq), file = spec.substr(eq + 1);
        KILN_CHECK(!name.empty() && !file.empty(), "--input '", spec, "' must be NAME=FILE");
        files[model.parameter_index(name)] = file;
    }
    if (!opt.input_dir.empty()) {
        KILN_CHECK(is_dir(opt.input_dir), "input directory '", opt.input_dir, "' does not exist");
        for (size_t i = 0; i < count; ++i) {
            if (files.count(i)) continue;
            const fs::path p = find_indexed_file(opt.input_dir, "input_" + std::to_string(i));
            KILN_CHECK(!p.empty(), "no data for input ", i, " '",
                       model.parameters()[i]->output(0).any_name(), "': ",
                       (fs::path(opt.input_dir) / ("input_" + std::to_string(i) + ".pb")).string(),
                       " does not exist");
            files[i] = p.string();
        }
    }
    for (size_t i = 0; i < count; ++i) {
        KILN_CHECK(files.count(i), "no data for input ", i, " '",
                   model.parameters()[i]->output(0).any_name(),
                   "': give --input NAME=FILE or --input-dir DIR");
    }
    return files;
}

/// Why `actual` does not match `expected`, or "" when it does.
std::string compare(const Tensor& actual, const Tensor& expected, double rtol, double atol,
                    double& max_diff) {
    max_diff = 0;
    if (actual.element_type() != expected.element_type())
        return str_cat("type ", to_string(actual.element_type()), ", expected ",
                       to_string(expected.element_type()));
    if (actual.shape() != expected.shape())
        return str_cat("shape ", to_string(actual.shape()), ", expected ",
                       to_string(expected.shape()));
    const ElementType t = actual.element_type();
    if (t == ElementType::string) {
        for (int64_t i = 0; i < actual.size(); ++i)
            if (actual.data<std::string>()[i] != expected.data<std::string>()[i])
                return str_cat("element ", i, " differs");
        return "";
    }
    if (bit_width(t) < 8) {
        const bool same =
            std::memcmp(actual.raw_data(), expected.raw_data(), actual.byte_size()) == 0;
        return same ? "" : "packed data differs";
    }
    if (is_integral(t)) {
        // Exact, and without going through double (which cannot hold every int64).
        for (int64_t i = 0; i < actual.size(); ++i) {
            const bool same = t == ElementType::u64
                                  ? actual.data<uint64_t>()[i] == expected.data<uint64_t>()[i]
                                  : actual.value_as_int(i) == expected.value_as_int(i);
            if (!same) return str_cat("element ", i, " differs");
        }
        return "";
    }
    int64_t worst = -1;
    for (int64_t i = 0; i < actual.size(); ++i) {
        const double a = actual.value_as_double(i), e = expected.value_as_double(i);
        const bool a_nan = std::isnan(a), e_nan = std::isnan(e);
        if ((a_nan && e_nan) || a == e) continue;  // a == e also covers equal infinities
        const double diff = a_nan || e_nan ? HUGE_VAL : std::fabs(a - e);
        max_diff = std::max(max_diff, diff);
        if (!(diff <= atol + rtol * std::fabs(e)) && worst < 0) worst = i;
    }
    if (worst >= 0)
        return str_cat("element ", worst, " is ", actual.value_as_double(worst), ", expected ",
                       expected.value_as_double(worst), " (max abs diff ", max_diff, ")");
    return "";
}

void run_model(const RunOptions& opt) {
    Core core;
    const std::shared_ptr<Model> model = core.read_model(opt.model);
    const std::map<size_t, std::string> files = resolve_inputs(opt, *model);
    if (!opt.expected_dir.empty())
        KILN_CHECK(is_dir(opt.expected_dir), "expected-output directory '", opt.expected_dir,
                   "' does not exist");

    AnyMap props;
    if (!opt.precision.empty()) props["INFERENCE_PRECISION_HINT"] = opt.precision;
    CompiledModel compiled = core.compile_model(model, opt.device, props);
    InferRequest request = compiled.create_infer_request();
    std::vector<std::string> input_lines;
    for (const auto& [index, file] : files) {
        const std::string name = model->parameters()[index]->output(0).any_name();
        const Tensor t = load_tensor_file(file);
        try {
            request.set_input_tensor(index, t);
        } catch (const Error& e) {
            KILN_THROW(file, ": ", e.what());
        }
        input_lines.push_back("  " + name + " <- " + file + ": " + summarize(t));
    }
    std::cout << "Inputs:\n";
    for (const auto& line : input_lines) std::cout << line << "\n";

    const auto start = std::chrono::steady_clock::now();
    request.infer();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    const TensorFormat format = opt.format == "npy" ? TensorFormat::npy : TensorFormat::pb;
    if (!opt.output_dir.empty()) fs::create_directories(opt.output_dir);
    std::cout << "Outputs:\n";
    std::vector<std::string> mismatches;
    const OutputVector outputs = model->outputs();
    for (size_t i = 0; i < outputs.size(); ++i) {
        const std::string name = output_name(*model, i);
        const Tensor t = request.get_output_tensor(i);
        std::cout << "  " << name << ": " << summarize(t);
        if (!opt.output_dir.empty()) {
            const fs::path p =
                fs::path(opt.output_dir) / ("output_" + std::to_string(i) + extension(format));
            try {
                save_tensor_file(t, p.string(), format, name);
            } catch (const Error& e) {
                KILN_THROW("output ", i, " '", name, "': ", e.what(),
                           format == TensorFormat::npy ? " (--format pb can hold it)" : "");
            }
            std::cout << " -> " << p.string();
        }
        std::cout << "\n";
        if (!opt.expected_dir.empty()) {
            const fs::path p = find_indexed_file(opt.expected_dir, "output_" + std::to_string(i));
            KILN_CHECK(!p.empty(), "no expected value for output ", i, " '", name, "' in ",
                       opt.expected_dir);
            double max_diff = 0;
            const std::string why =
                compare(t, load_tensor_file(p.string()), opt.rtol, opt.atol, max_diff);
            if (why.empty()) {
                std::cout << "    matches " << p.string() << " (max abs diff " << max_diff << ")\n";
            } else {
                std::cout << "    DIFFERS from " << p.string() << ": " << why << "\n";
                mismatches.push_back(name);
            }
        }
    }
    char took[64];
    std::snprintf(took, sizeof took, "%.3f ms", ms);
    std::cout << "Inference: " << took << " on " << opt.device << "\n";
    std::cout.flush();
    KILN_CHECK(mismatches.empty(), mismatches.size(), " of ", outputs.size(),
               " outputs differ from the expected values (rtol ", opt.rtol, ", atol ", opt.atol,
               ")");
}

}  // namespace

Command add_run_command(CLI::App& parent) {
    auto opt = std::make_shared<RunOptions>();
    CLI::App* app = parent.add_subcommand("run", "Run a model on inputs read from files.");
    app->add_option("model", opt->model, "Model file (.onnx or .xml)")->required();
    app->add_option("--input-dir", opt->input_dir,
                    "Directory with input_K.pb (ONNX TensorProto) or input_K.npy files, K being "
                    "the position among the model's inputs (the ONNX test-data layout)");
    app->add_option("-i,--input", opt->inputs,
                    "NAME=FILE: the value of input NAME from a .npy or .pb file (repeatable; "
                    "overrides --input-dir; a bare FILE works for single-input models)");
    app->add_option("-o,--output-dir", opt->output_dir,
                    "Directory to write output_K.pb or output_K.npy files to (created if needed)");
    app->add_option("--format", opt->format, "Format of the written outputs")
        ->check(CLI::IsMember({"pb", "npy"}))
        ->capture_default_str();
    app->add_option("-d,--device", opt->device, "Device to run on")->capture_default_str();
    app->add_option("--infer-precision", opt->precision,
                    "INFERENCE_PRECISION_HINT given to compile_model (default: the device's)")
        ->check(CLI::IsMember({"f32", "bf16"}));
    app->add_option("--expected-dir", opt->expected_dir,
                    "Compare the outputs with output_K.pb / output_K.npy files in this directory; "
                    "exit code 1 when any differs");
    app->add_option("--rtol", opt->rtol, "Relative tolerance of --expected-dir")
        ->capture_default_str();
    app->add_option("--atol", opt->atol, "Absolute tolerance of --expected-dir")
        ->capture_default_str();
    return {app, [opt] { run_model(*opt); }};
}

}  // namespace kiln::tools
