// kiln generate: text generation with a stateful LLM (LLMPipeline), streaming the tokens to
// stdout and the timings to stderr.
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "kiln/chat_template.hpp"
#include "kiln/error.hpp"
#include "kiln/llm_pipeline.hpp"
#include "llm_options.hpp"
#include "tensor_files.hpp"

namespace kiln::tools {

namespace {

struct GenerateOptions {
    LlmDeviceOptions run;
    std::vector<std::string> prompts, prompt_files, stops;
    std::optional<size_t> max_new_tokens, min_new_tokens, top_k;
    std::optional<float> temperature, top_p, min_p, repetition, presence, frequency;
    std::optional<uint64_t> seed;
    std::string system;
    bool greedy = false, sample = false, ignore_eos = false, batch = false, chat = false;
};

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    KILN_CHECK(f, "--prompt-file: cannot open '", path, "'");
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

/// The model's defaults (generation_config.json) with the options given on the command line.
GenerationConfig make_config(const GenerateOptions& o, GenerationConfig c) {
    if (o.max_new_tokens) c.max_new_tokens = *o.max_new_tokens;
    if (o.min_new_tokens) c.min_new_tokens = *o.min_new_tokens;
    const bool sampling_option = o.temperature || o.top_k || o.top_p || o.min_p;
    if (o.greedy) c.do_sample = false;
    if (o.sample || sampling_option) c.do_sample = true;
    if (o.temperature) c.temperature = *o.temperature;
    if (o.top_k) c.top_k = *o.top_k;
    if (o.top_p) c.top_p = *o.top_p;
    if (o.min_p) c.min_p = *o.min_p;
    if (o.repetition) c.repetition_penalty = *o.repetition;
    if (o.presence) c.presence_penalty = *o.presence;
    if (o.frequency) c.frequency_penalty = *o.frequency;
    if (o.seed) c.seed = *o.seed;
    c.ignore_eos = c.ignore_eos || o.ignore_eos;
    c.stop_strings.insert(c.stop_strings.end(), o.stops.begin(), o.stops.end());
    c.validate();
    return c;
}

void print_metrics(const GenerationMetrics& m) {
    char line[256];
    std::snprintf(line, sizeof line, "TTFT: %.2f ms\n", m.ttft_ms);
    std::cerr << line;
    std::snprintf(line, sizeof line, "Prefill: %zu tokens, %.1f tokens/s\n", m.prompt_tokens,
                  m.prefill_tokens_per_s);
    std::cerr << line;
    std::snprintf(line, sizeof line,
                  "Decode: %zu tokens in %zu steps, %.1f tokens/s (median %.2f ms/token)\n",
                  m.generated_tokens, m.decode_steps, m.decode_tokens_per_s,
                  m.median_token_latency_ms);
    std::cerr << line;
    std::cerr << "Peak memory: " << mib_text(m.peak_memory_kib) << "\n";
}

void run_generate(const GenerateOptions& o) {
    std::vector<std::string> prompts = o.prompts;
    for (const auto& f : o.prompt_files) prompts.push_back(read_file(f));
    KILN_CHECK(!prompts.empty(), "generate: give a prompt with --prompt or --prompt-file");

    const auto t0 = std::chrono::steady_clock::now();
    LLMPipeline pipe(o.run.model, o.run.device, o.run.properties());
    const double load_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const GenerationConfig config = make_config(o, pipe.generation_config());
    char line[128];
    std::snprintf(line, sizeof line, "Load: %.1f ms\n", load_ms);
    std::cerr << line;

    // With --chat each prompt is one user turn rendered by the model's chat template (ChatML
    // when it has none); the template writes the special tokens, so none are added when encoding.
    std::vector<std::vector<int64_t>> ids;
    if (o.chat) {
        const TokenizerConfig& tc = pipe.tokenizer_config();
        const ChatTemplate chat(tc.chat_template.empty() ? ChatTemplate::chatml_default()
                                                         : tc.chat_template);
        for (const auto& p : prompts) {
            std::vector<ChatMessage> messages;
            if (!o.system.empty()) messages.push_back({"system", o.system});
            messages.push_back({"user", p});
            const std::string text = chat.apply(
                messages, true, {{"bos_token", tc.bos_token}, {"eos_token", tc.eos_token}});
            ids.push_back(pipe.tokenizer().encode(text, /*add_special_tokens=*/false));
        }
    }
    auto generate = [&](size_t i, const StreamerCallback& streamer) {
        return o.chat ? pipe.generate_ids({ids[i]}, config, streamer)
                      : pipe.generate(prompts[i], config, streamer);
    };

    if (o.batch && prompts.size() > 1) {
        const GenerationResult r =
            o.chat ? pipe.generate_ids(ids, config) : pipe.generate(prompts, config);
        for (size_t i = 0; i < r.texts.size(); ++i)
            std::cout << "--- prompt " << i + 1 << " (" << r.finish_reasons[i] << ") ---\n"
                      << r.texts[i] << "\n";
        std::cout.flush();
        print_metrics(r.metrics);
        return;
    }
    for (size_t i = 0; i < prompts.size(); ++i) {
        if (prompts.size() > 1) std::cout << "--- prompt " << i + 1 << " ---\n";
        const GenerationResult r = generate(i, [](const std::string& s) {
            std::cout << s << std::flush;
            return true;
        });
        std::cout << "\n" << std::flush;
        print_metrics(r.metrics);
    }
}

}  // namespace

Command add_generate_command(CLI::App& parent) {
    auto o = std::make_shared<GenerateOptions>();
    CLI::App* app = parent.add_subcommand(
        "generate", "Generate text with an LLM, streaming it to stdout (timings on stderr).");
    o->run.add_to(app);
    // One value per flag, so that `--prompt TEXT MODEL` leaves MODEL to the positional.
    app->add_option("-p,--prompt", o->prompts, "Prompt text (repeatable)")->allow_extra_args(false);
    app->add_option("--prompt-file", o->prompt_files, "A file holding one prompt (repeatable)")
        ->allow_extra_args(false);
    app->add_option("-n,--max-new-tokens", o->max_new_tokens,
                    "Most tokens to generate [generation_config.json, else 128]");
    app->add_option("--min-new-tokens", o->min_new_tokens, "Suppress EOS before this many");
    auto* greedy = app->add_flag("--greedy", o->greedy, "Greedy decoding (argmax)");
    auto* sample = app->add_flag("--sample", o->sample,
                                 "Sample with the model's default temperature and filters");
    std::vector<CLI::Option*> sampling{
        sample, app->add_option("--temperature", o->temperature, "Sampling temperature (> 0)"),
        app->add_option("--top-k", o->top_k, "Keep the k most probable tokens (0: all)"),
        app->add_option("--top-p", o->top_p, "Nucleus sampling: keep probability mass p"),
        app->add_option("--min-p", o->min_p,
                        "Drop tokens below min_p times the largest probability")};
    for (auto* s : sampling) greedy->excludes(s);
    app->add_option("--repetition-penalty", o->repetition,
                    "Divide positive (multiply negative) logits of seen tokens by this");
    app->add_option("--presence-penalty", o->presence,
                    "Subtract from the logits of generated tokens (OpenAI), in [-2, 2]");
    app->add_option("--frequency-penalty", o->frequency,
                    "Subtract this times the count of each generated token (OpenAI), in [-2, 2]");
    app->add_option("--seed", o->seed, "Sampling seed (the same seed gives the same text)");
    app->add_option("--stop", o->stops, "Stop when the text contains this (repeatable)")
        ->allow_extra_args(false);
    app->add_flag("--ignore-eos", o->ignore_eos, "Do not stop at the end-of-sequence token");
    app->add_flag("--chat", o->chat,
                  "Send each prompt as a user message through the model's chat template");
    app->add_option("--system", o->system, "A system message before the prompt (with --chat)");
    app->add_flag("--batch-prompts", o->batch,
                  "Run every prompt in one batch (left-padded) instead of one after another; "
                  "prints each text at the end");
    return {app, [o] { run_generate(*o); }};
}

}  // namespace kiln::tools
