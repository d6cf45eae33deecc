// kiln info: what a model takes, returns and is made of.
#include <algorithm>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "commands.hpp"
#include "kiln/ir.hpp"
#include "kiln/runtime.hpp"
#include "tensor_files.hpp"

namespace kiln::tools {

namespace {

struct Stats {
    std::map<std::string, size_t> op_counts;
    size_t nodes = 0;
    size_t subgraphs = 0;
    size_t constants = 0;
    uint64_t constant_bytes = 0;
    size_t weight_constants = 0;
    uint64_t parameters = 0;
    size_t compressed_constants = 0;  // low-bit weights of decompression subgraphs
    uint64_t compressed_parameters = 0;
};

// Integer constants that a "decompression" Convert widens, zero points (subtracted) excepted.
void collect_compressed(const Model& model, Stats& stats) {
    std::set<const Node*> zero_points;
    for (const auto& node : model.ordered_ops())
        if (node->type() == "Subtract" && node->input_count() == 2)
            zero_points.insert(node->input(1).node.get());
    for (const auto& node : model.ordered_ops()) {
        if (node->type() != "Convert" || !node->rt_info().count("decompression") ||
            zero_points.count(node.get()) || node->input(0).node->type() != "Const")
            continue;
        const Tensor& v = node->input(0).node->value();
        if (!is_integral(v.element_type())) continue;
        ++stats.compressed_constants;
        stats.compressed_parameters += static_cast<uint64_t>(v.size());
    }
}

void collect(const Model& model, Stats& stats) {
    collect_compressed(model, stats);
    for (const auto& node : model.ordered_ops()) {
        ++stats.op_counts[node->type()];
        ++stats.nodes;
        if (node->type() == "Const") {
            const Tensor& v = node->value();
            ++stats.constants;
            stats.constant_bytes += v.byte_size();
            if (is_float(v.element_type())) {
                ++stats.weight_constants;
                stats.parameters += static_cast<uint64_t>(v.size());
            }
        }
        for (const auto& body : node->bodies()) {
            ++stats.subgraphs;
            collect(*body, stats);
        }
    }
}

void print_ports(const char* heading, const OutputVector& ports,
                 const std::vector<std::string>& names) {
    std::cout << heading << " (" << ports.size() << "):\n";
    size_t width = 4;
    for (const auto& n : names) width = std::max(width, n.size());
    for (size_t i = 0; i < ports.size(); ++i) {
        std::cout << "  " << std::left << std::setw(static_cast<int>(width)) << names[i] << "  "
                  << std::setw(8) << to_string(ports[i].element_type())
                  << to_string(ports[i].partial_shape()) << "\n";
    }
}

void run_info(const std::string& path) {
    Core core;
    const std::shared_ptr<Model> model = core.read_model(path);
    const std::string ext = std::filesystem::path(path).extension().string();
    namespace fs = std::filesystem;
    const bool folder = fs::is_directory(path);
    const bool ir_folder = folder && !ir_in_folder(path).empty();
    const char* format = ir_folder       ? "Kiln IR in a folder"
                         : folder        ? "Hugging Face folder"
                         : ext == ".xml" ? "Kiln IR"
                                         : "ONNX";

    std::cout << "Model: " << path << " (" << format << "), name '" << model->name() << "'\n\n";
    std::vector<std::string> input_names, output_names;
    for (const auto& in : model->inputs()) input_names.push_back(in.any_name());
    for (size_t i = 0; i < model->results().size(); ++i)
        output_names.push_back(output_name(*model, i));
    print_ports("Inputs", model->inputs(), input_names);
    print_ports("Outputs", model->outputs(), output_names);

    Stats stats;
    collect(*model, stats);
    std::vector<std::pair<std::string, size_t>> ops(stats.op_counts.begin(), stats.op_counts.end());
    std::stable_sort(ops.begin(), ops.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::cout << "\nOperations (" << stats.nodes << " nodes";
    if (stats.subgraphs) std::cout << " in the main graph and " << stats.subgraphs << " sub-graphs";
    std::cout << "):\n";
    size_t width = 4;
    for (const auto& [type, n] : ops) width = std::max(width, type.size());
    for (const auto& [type, n] : ops)
        std::cout << "  " << std::left << std::setw(static_cast<int>(width)) << type << "  "
                  << std::right << std::setw(6) << n << "\n";

    std::cout << "\nParameters: " << format_count(stats.parameters) << " (float weights in "
              << stats.weight_constants << " constants)";
    if (stats.compressed_constants)
        std::cout << " + " << format_count(stats.compressed_parameters)
                  << " (compressed weights in " << stats.compressed_constants << " constants)";
    std::cout << "\n";
    std::cout << "Constants:  " << stats.constants << " nodes, "
              << format_bytes(stats.constant_bytes) << "\n";
    if (!model->rt_info().empty()) {
        std::cout << "\nMetadata:\n";
        for (const auto& [key, value] : model->rt_info())
            std::cout << "  " << key << " = " << value << "\n";
    }
}

}  // namespace

Command add_info_command(CLI::App& parent) {
    auto path = std::make_shared<std::string>();
    CLI::App* app = parent.add_subcommand(
        "info", "Show a model's inputs, outputs, operation histogram and weight statistics.");
    app->add_option("model", *path,
                    "Model file (.onnx, or .xml Kiln IR with its .bin), or a Hugging Face folder")
        ->required();
    return {app, [path] { run_info(*path); }};
}

}  // namespace kiln::tools
