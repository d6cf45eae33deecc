// kiln convert: read an ONNX model, an IR or a Hugging Face folder and write it as Kiln IR
// (.xml + .bin); a Hugging Face folder's tokenizer and config files are copied beside it.
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "kiln/hf.hpp"
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

// The tokenizer, generation and config files that generation reads beside the IR.
void copy_side_files(const fs::path& folder, const fs::path& out_dir) {
    for (const std::string& name : hf_side_files()) {
        const fs::path src = folder / name, dst = out_dir / name;
        std::error_code ec;
        if (!fs::is_regular_file(src, ec)) continue;
        if (!same_file(src, dst)) {
            fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec);
            KILN_CHECK(!ec, "cannot copy '", src.string(), "' to '", dst.string(),
                       "': ", ec.message());
        }
        std::cout << "Wrote " << dst.string() << ": " << format_bytes(fs::file_size(dst, ec))
                  << " (copied)\n";
    }
}

// The IR file that read_model maps while converting, if any: the model itself, or the
// model.xml of a converted folder.
fs::path source_ir(const std::string& model) {
    if (!fs::is_directory(model))
        return fs::path(model).extension() == ".xml" ? fs::path(model) : fs::path();
    return fs::path(ir_in_folder(model));
}

void run_convert(const ConvertOptions& opt) {
    const bool folder = fs::is_directory(opt.model);
    KILN_CHECK(!folder || !opt.output.empty(), "converting the folder '", opt.model,
               "' needs -o OUT_DIR/model.xml (its tokenizer and config files go beside it)");
    fs::path out = opt.output;
    if (out.empty()) out = fs::path(opt.model).filename().replace_extension(".xml");
    KILN_CHECK(out.extension() == ".xml", "output '", out.string(),
               "' must end with .xml (the weights go to the .bin beside it)");
    const fs::path bin = fs::path(out).replace_extension(".bin");
    // An IR's weights are memory-mapped while we read them: never write over the source.
    const fs::path src_ir = source_ir(opt.model);
    const fs::path src_bin = fs::path(src_ir).replace_extension(".bin");
    KILN_CHECK(!same_file(opt.model, out) &&
                   !(!src_ir.empty() && (same_file(src_ir, out) || same_file(src_bin, bin))),
               "output '", out.string(), "' would overwrite the model being converted");
    const bool from_hf = folder && src_ir.empty();

    Core core;
    const std::shared_ptr<Model> model = core.read_model(opt.model);
    const auto type = model->rt_info().find("model_type");
    std::cout << "Read " << opt.model;
    if (from_hf && type != model->rt_info().end())
        std::cout << " (Hugging Face " << type->second << ")";
    std::cout << ": " << model->inputs().size() << " inputs, " << model->outputs().size()
              << " outputs, " << model->ordered_ops().size() << " nodes\n";

    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    SaveOptions save;
    save.compress_to_fp16 = opt.compress_to_fp16;
    save_model(*model, out.string(), save);

    std::error_code ec;
    std::cout << "Wrote " << out.string() << ": " << format_bytes(fs::file_size(out, ec)) << "\n";
    const uintmax_t bin_size = fs::file_size(bin, ec);
    std::cout << "Wrote " << bin.string() << ": " << format_bytes(ec ? 0 : bin_size)
              << (opt.compress_to_fp16 ? " (float32 weights stored as float16)" : "") << "\n";
    if (folder) copy_side_files(opt.model, out.has_parent_path() ? out.parent_path() : ".");
}

}  // namespace

Command add_convert_command(CLI::App& parent) {
    auto opt = std::make_shared<ConvertOptions>();
    CLI::App* app = parent.add_subcommand(
        "convert",
        "Convert a model (ONNX, IR or a Hugging Face folder) to Kiln IR: an .xml topology and a "
        ".bin weights file.");
    app->add_option("model", opt->model,
                    "Model file (.onnx or .xml), or a Hugging Face causal-LM folder (config.json "
                    "and safetensors; its tokenizer and config files are copied beside the IR)")
        ->required();
    app->add_option("-o,--output", opt->output,
                    "Output .xml path; the .bin is written beside it (default: MODEL's name with "
                    ".xml, in the current directory)");
    app->add_flag("--compress-to-fp16", opt->compress_to_fp16,
                  "Store float32 weights as float16 (decompressed to float32 when the model runs)");
    return {app, [opt] { run_convert(*opt); }};
}

}  // namespace kiln::tools
