// kiln convert: read an ONNX model (or an IR) and write it as Kiln IR (.xml + .bin).
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "kiln/ir.hpp"
#include "kiln/runtime.hpp"
#include "tensor_files.hpp"

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;

struct ConvertOptions {
    std::string model;
    std::string output;
    bool compress_to_fp16 = false;
};

bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

void run_convert(const ConvertOptions& opt) {
    fs::path out = opt.output;
    if (out.empty()) out = fs::path(opt.model).filename().replace_extension(".xml");
    KILN_CHECK(out.extension() == ".xml", "output '", out.string(),
               "' must end with .xml (the weights go to the .bin beside it)");
    const fs::path bin = fs::path(out).replace_extension(".bin");
    // An IR's weights are memory-mapped while we read them: never write over the source.
    const bool from_ir = fs::path(opt.model).extension() == ".xml";
    const fs::path src_bin = fs::path(opt.model).replace_extension(".bin");
    KILN_CHECK(!same_file(opt.model, out) && !(from_ir && same_file(src_bin, bin)), "output '",
               out.string(), "' would overwrite the model being converted");

    Core core;
    const std::shared_ptr<Model> model = core.read_model(opt.model);
    std::cout << "Read " << opt.model << ": " << model->inputs().size() << " inputs, "
              << model->outputs().size() << " outputs, " << model->ordered_ops().size()
              << " nodes\n";

    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    SaveOptions save;
    save.compress_to_fp16 = opt.compress_to_fp16;
    save_model(*model, out.string(), save);

    std::error_code ec;
    std::cout << "Wrote " << out.string() << ": " << format_bytes(fs::file_size(out, ec)) << "\n";
    const uintmax_t bin_size = fs::file_size(bin, ec);
    std::cout << "Wrote " << bin.string() << ": " << format_bytes(ec ? 0 : bin_size)
              << (opt.compress_to_fp16 ? " (float32 weights stored as float16)" : "") << "\n";
}

}  // namespace

Command add_convert_command(CLI::App& parent) {
    auto opt = std::make_shared<ConvertOptions>();
    CLI::App* app = parent.add_subcommand(
        "convert",
        "Convert a model (ONNX or IR) to Kiln IR: an .xml topology and a .bin weights file.");
    app->add_option("model", opt->model, "Model file (.onnx or .xml)")->required();
    app->add_option("-o,--output", opt->output,
                    "Output .xml path; the .bin is written beside it (default: MODEL's name with "
                    ".xml, in the current directory)");
    app->add_flag("--compress-to-fp16", opt->compress_to_fp16,
                  "Store float32 weights as float16 (decompressed to float32 when the model runs)");
    return {app, [opt] { run_convert(*opt); }};
}

}  // namespace kiln::tools
