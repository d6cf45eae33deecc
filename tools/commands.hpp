#pragma once
// The kiln subcommands. Each add_*_command registers its options on `parent` and returns the
// action main() runs when that subcommand was chosen (inside main's error handling).
#include <CLI/CLI.hpp>
#include <functional>

namespace kiln::tools {

/// Kept in step with project(kiln VERSION ...) in CMakeLists.txt (an e2e test checks it).
inline constexpr const char* kVersion = KILN_VERSION;

struct Command {
    CLI::App* app = nullptr;
    std::function<void()> run;
};

Command add_info_command(CLI::App& parent);
Command add_convert_command(CLI::App& parent);
Command add_run_command(CLI::App& parent);
Command add_benchmark_command(CLI::App& parent);
Command add_tokenize_command(CLI::App& parent);
Command add_generate_command(CLI::App& parent);
Command add_perplexity_command(CLI::App& parent);
Command add_compress_command(CLI::App& parent);

}  // namespace kiln::tools
