// kiln compress: store a model's MatMul and embedding weights in 8 or 4 bits (Kiln IR output).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "kiln/compress.hpp"
#include "kiln/hf.hpp"
#include "kiln/ir.hpp"
#include "kiln/runtime.hpp"
#include "tensor_files.hpp"

namespace kiln::tools {

namespace {

namespace fs = std::filesystem;

struct CompressOptions {
    std::string model;
    std::string output;
    std::string mode = "int8_asym";
    int64_t group_size = 128;
    double ratio = 1.0;
    std::string backup = "int8_asym";
    bool all_layers = false;
};

bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

std::string megabytes(size_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(bytes) / 1e6);
    return buf;
}

std::string percent(double share) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %%", 100.0 * share);
    return buf;
}

/// A bar on stderr, redrawn in place; only drawn when stderr is a terminal.
class ProgressBar {
public:
    ProgressBar() : enabled_(::isatty(STDERR_FILENO) == 1) {}
    ~ProgressBar() {
        if (drawn_) std::fprintf(stderr, "\n");
    }
    void update(size_t done, size_t total, const std::string& layer) {
        if (!enabled_ || total == 0) return;
        constexpr size_t kWidth = 30;
        const size_t filled = done * kWidth / total;
        std::string name = layer.size() > 40 ? "..." + layer.substr(layer.size() - 37) : layer;
        std::fprintf(stderr, "\r[%s%s] %3zu%%  %-40s", std::string(filled, '#').c_str(),
                     std::string(kWidth - filled, ' ').c_str(), done * 100 / total, name.c_str());
        std::fflush(stderr);
        drawn_ = true;
    }

private:
    bool enabled_, drawn_ = false;
};

std::string shape_text(const Shape& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i) out += 'x';
        out += std::to_string(s[i]);
    }
    return out;
}

void print_table(const WeightCompressionReport& r) {
    size_t name_w = 5;
    for (const auto& l : r.layers) name_w = std::max(name_w, l.name.size());
    name_w = std::min<size_t>(name_w, 60);
    std::printf("%-*s  %-12s %4s  %-9s %5s  %s\n", static_cast<int>(name_w), "Layer", "Shape",
                "Bits", "Precision", "Group", "Note");
    for (const auto& l : r.layers) {
        std::string note = l.role;
        if (!l.reason.empty() && l.reason != "embedding" && l.reason != "output projection")
            note += (note.empty() ? "" : "; ") + l.reason;
        const std::string group = l.bits == 32   ? "-"
                                  : l.group_size ? std::to_string(l.group_size)
                                                 : "row";
        std::printf("%-*s  %-12s %4d  %-9s %5s  %s\n", static_cast<int>(name_w), l.name.c_str(),
                    shape_text(l.shape).c_str(), l.bits, l.precision.c_str(), group.c_str(),
                    note.c_str());
    }
}

void print_summary(const WeightCompressionReport& r) {
    const int64_t p = r.params();
    std::cout << "\nLayers: " << r.layers.size() << ", " << format_count(p) << " weights: 4-bit "
              << format_count(r.params_with_bits(4)) << " (" << percent(r.share_4bit())
              << "), 8-bit " << format_count(r.params_with_bits(8)) << ", float "
              << format_count(r.params_with_bits(32)) << "\n";
    std::cout << "Layer weights: " << megabytes(r.layer_bytes_before()) << " -> "
              << megabytes(r.layer_bytes_after()) << ", " << std::fixed << std::setprecision(2)
              << r.bits_per_weight() << " bits per weight (scales and zero points included)\n";
    std::cout << "All constants: " << megabytes(r.model_bytes_before) << " -> "
              << megabytes(r.model_bytes_after) << "\n";
    for (const auto& s : r.skipped) std::cout << "Not compressed: " << s << "\n";
}

void copy_side_files(const fs::path& model, const fs::path& out) {
    std::error_code ec;
    const fs::path from = fs::is_directory(model, ec) ? model : model.parent_path();
    const fs::path to = out.has_parent_path() ? out.parent_path() : fs::path(".");
    if (fs::equivalent(from.empty() ? "." : from, to, ec)) return;
    std::string copied;
    for (const std::string& name : hf_side_files()) {
        const fs::path src = from / name;
        if (!fs::is_regular_file(src, ec)) continue;
        fs::copy_file(src, to / name, fs::copy_options::overwrite_existing, ec);
        KILN_CHECK(!ec, "cannot copy '", src.string(), "' to '", to.string(), "': ", ec.message());
        copied += std::string(copied.empty() ? "" : ", ") + name;
    }
    if (!copied.empty()) std::cout << "Copied " << copied << " to " << to.string() << "\n";
}

void run_compress(const CompressOptions& opt) {
    WeightCompressionConfig cfg;
    cfg.mode = compression_mode_from_string(opt.mode);
    cfg.group_size = opt.group_size;
    cfg.ratio = opt.ratio;
    cfg.backup = backup_mode_from_string(opt.backup);
    cfg.all_layers = opt.all_layers;
    validate(cfg);  // before the (possibly long) read

    const fs::path out = opt.output;
    KILN_CHECK(out.extension() == ".xml", "output '", out.string(),
               "' must end with .xml (the weights go to the .bin beside it)");
    const fs::path bin = fs::path(out).replace_extension(".bin");
    // An IR's weights are memory-mapped while we read them: never write over the source.
    const bool from_ir = fs::path(opt.model).extension() == ".xml";
    const fs::path src_bin = fs::path(opt.model).replace_extension(".bin");
    KILN_CHECK(!same_file(opt.model, out) && !(from_ir && same_file(src_bin, bin)), "output '",
               out.string(), "' would overwrite the model being compressed");

    Core core;
    const std::shared_ptr<Model> model = core.read_model(opt.model);
    std::cout << "Read " << opt.model << ": " << model->ordered_ops().size() << " nodes\n";
    WeightCompressionReport report;
    {
        ProgressBar bar;
        report =
            compress_weights(*model, cfg, [&](size_t done, size_t total, const std::string& layer) {
                bar.update(done, total, layer);
            });
    }
    if (report.layers.empty())
        std::cout << "No MatMul or embedding weights to compress: the model is written as is\n";
    else
        print_table(report);
    print_summary(report);

    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    save_model(*model, out.string());
    std::error_code ec;
    const uintmax_t bin_size = fs::file_size(bin, ec);
    std::cout << "Wrote " << out.string() << " and " << bin.string() << " ("
              << megabytes(ec ? 0 : bin_size) << ")\n";
    copy_side_files(opt.model, out);
}

}  // namespace

Command add_compress_command(CLI::App& parent) {
    auto opt = std::make_shared<CompressOptions>();
    CLI::App* app = parent.add_subcommand(
        "compress",
        "Compress the weights of MatMul layers and embeddings to 8 or 4 bits (writes Kiln IR).");
    app->add_option("model", opt->model, "Model: .onnx, .xml (IR) or a Hugging Face folder")
        ->required();
    app->add_option("-o,--output", opt->output,
                    "Output .xml path; the .bin is written beside it, with the tokenizer and "
                    "config files found beside the model")
        ->required();
    app->add_option("--mode", opt->mode,
                    "int8_asym (default), int8_sym (per output channel), int4_asym or int4_sym "
                    "(per group of input channels)");
    app->add_option("--group-size", opt->group_size,
                    "4-bit modes: input channels per scale (default 128; -1: one per row)");
    app->add_option("--ratio", opt->ratio,
                    "4-bit modes: share of the weights in 4 bits, least sensitive layers first; "
                    "the rest use --backup (default 1)");
    app->add_option("--backup", opt->backup,
                    "Precision of layers not in 4 bits: int8_asym (default), int8_sym or none "
                    "(left in floating point)");
    app->add_flag("--all-layers", opt->all_layers,
                  "Put the embedding and the output projection in 4 bits too (default: 8 bits)");
    return {app, [opt] { run_compress(*opt); }};
}

}  // namespace kiln::tools
