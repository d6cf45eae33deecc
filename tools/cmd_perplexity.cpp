// kiln perplexity: how well an LLM predicts a text (for checking compressed models against the
// original).
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "kiln/error.hpp"
#include "kiln/llm_pipeline.hpp"
#include "llm_options.hpp"
#include "tensor_files.hpp"

namespace kiln::tools {

namespace {

struct PerplexityCliOptions {
    LlmDeviceOptions run;
    std::string text_file;
    size_t max_context = 0, chunk = 512;
};

void run_perplexity(const PerplexityCliOptions& o) {
    std::ifstream f(o.text_file, std::ios::binary);
    KILN_CHECK(f, "--text-file: cannot open '", o.text_file, "'");
    std::ostringstream text;
    text << f.rdbuf();

    LLMPipeline pipe(o.run.model, o.run.device, o.run.properties());
    const auto t0 = std::chrono::steady_clock::now();
    const PerplexityResult r = pipe.perplexity(text.str(), {o.max_context, o.chunk});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char line[160];
    std::snprintf(line, sizeof line, "Perplexity: %.4f (%zu tokens scored, mean NLL %.5f)\n",
                  r.perplexity, r.scored_tokens, r.mean_nll);
    std::cout << line << std::flush;
    std::snprintf(line, sizeof line, "Time: %.2f s, %.1f tokens/s\n", s,
                  s > 0 ? static_cast<double>(r.scored_tokens + 1) / s : 0.0);
    std::cerr << line << "Peak memory: " << mib_text(r.peak_memory_kib) << "\n";
}

}  // namespace

Command add_perplexity_command(CLI::App& parent) {
    auto o = std::make_shared<PerplexityCliOptions>();
    CLI::App* app = parent.add_subcommand("perplexity", "Perplexity of an LLM on a text file.");
    o->run.add_to(app);
    app->add_option("-f,--text-file", o->text_file, "The text to score")->required();
    app->add_option("--max-context", o->max_context,
                    "Tokens per window (0: the model's max_position_embeddings)")
        ->capture_default_str();
    app->add_option("--chunk", o->chunk, "Tokens per inference within a window")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    return {app, [o] { run_perplexity(*o); }};
}

}  // namespace kiln::tools
