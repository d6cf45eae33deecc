#pragma once
/// \file Text generation with a causal LM in the stateful layout of docs/GENAI.md ("The LLM graph
/// contract"): LLMPipeline tokenizes prompts, runs prefill and one-token decode steps with the KV
/// cache held as model state, samples, stops and streams, in the spirit of OpenVINO GenAI's
/// LLMPipeline.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kiln/model.hpp"
#include "kiln/runtime.hpp"
#include "kiln/tokenizer.hpp"

namespace kiln {

/// How to pick tokens and when to stop. Defaults come from the model's generation_config.json
/// (LLMPipeline::generation_config()); a caller copies them and changes what it needs.
struct GenerationConfig {
    size_t max_new_tokens = 128;
    /// EOS and stop token ids are suppressed until this many tokens were generated.
    size_t min_new_tokens = 0;
    /// false: greedy (argmax after the penalties); true: sampling with the warpers below.
    bool do_sample = false;
    float temperature = 1.0f;  // > 0 when sampling
    size_t top_k = 0;          // 0: off
    float top_p = 1.0f;        // in (0, 1]; 1: off
    float min_p = 0.0f;        // in [0, 1); 0: off
    /// HF semantics over the prompt and generated tokens: > 1 discourages repeats.
    float repetition_penalty = 1.0f;
    /// OpenAI semantics over the generated tokens, in [-2, 2].
    float presence_penalty = 0.0f;
    float frequency_penalty = 0.0f;
    /// Each row samples from its own std::mt19937_64 seeded with this: a seed gives the same
    /// tokens every run, alone or in a batch.
    uint64_t seed = 0;
    /// Ends a row when generated (the token is not part of the result). Empty: the model's EOS
    /// ids (generation_config.json, config.json, tokenizer_config.json).
    std::set<int64_t> eos_token_ids;
    bool ignore_eos = false;
    /// Ends a row when the decoded text contains one (also across tokens); the text returned and
    /// streamed stops before it.
    std::vector<std::string> stop_strings;
    /// Ends a row like EOS (e.g. a chat model's end-of-turn token), also under ignore_eos.
    std::set<int64_t> stop_token_ids;

    /// Throws a kiln::Error naming the first invalid field.
    void validate() const;
    /// The defaults above, overridden by the fields of a Hugging Face generation_config.json
    /// (max_new_tokens, min_new_tokens, do_sample, temperature, top_k, top_p, min_p,
    /// repetition_penalty, eos_token_id as a number or a list; others are ignored).
    static GenerationConfig from_json(const std::string& json_text,
                                      const std::string& origin = "generation_config.json");
    static GenerationConfig from_file(const std::string& path);
};

/// The parts of tokenizer_config.json that generation and chat templates use. Special tokens
/// are given as strings or as {"content": ...} objects there; empty when absent.
struct TokenizerConfig {
    std::string bos_token, eos_token, pad_token, unk_token;
    std::optional<bool> add_bos_token, add_eos_token;
    /// The Jinja chat template ("default" one when the file lists several); empty when absent.
    std::string chat_template;
    std::optional<int64_t> model_max_length;

    static TokenizerConfig from_json(const std::string& json_text,
                                     const std::string& origin = "tokenizer_config.json");
    static TokenizerConfig from_file(const std::string& path);
};

/// Return false to stop generating; receives text pieces that concatenate to the result.
using StreamerCallback = std::function<bool(const std::string& text)>;

struct GenerationMetrics {
    /// From generate() to the first token of every row sampled (tokenization and prefill).
    double ttft_ms = 0;
    double prefill_ms = 0;        // the prefill inference and the first sampling
    double decode_ms = 0;         // every later step
    size_t prompt_tokens = 0;     // real (unpadded) prompt tokens, every row
    size_t generated_tokens = 0;  // every row, including the token that ended it
    size_t decode_steps = 0;
    double prefill_tokens_per_s = 0;
    /// Generated tokens after the first of each row, per second of decode.
    double decode_tokens_per_s = 0;
    double median_token_latency_ms = 0;  // of the decode steps
    /// Peak resident memory of the process (VmHWM), KiB; -1 where unknown.
    int64_t peak_memory_kib = -1;
};

struct GenerationResult {
    std::vector<std::string> texts;
    /// Generated ids per prompt, without the EOS or stop token that ended the row.
    std::vector<std::vector<int64_t>> tokens;
    /// Per prompt: "eos", "stop_token", "stop_string", "length" or "cancelled" (the streamer).
    std::vector<std::string> finish_reasons;
    GenerationMetrics metrics;
};

struct PerplexityOptions {
    /// Tokens of context per window; 0: the model's max_position_embeddings (2048 when unknown).
    size_t max_context = 0;
    /// Tokens fed per inference inside a window (the state carries the rest).
    size_t chunk = 512;
};

struct PerplexityResult {
    double perplexity = 0;
    double mean_nll = 0;           // natural log
    size_t scored_tokens = 0;      // every token but the first
    int64_t peak_memory_kib = -1;  // VmHWM, as in GenerationMetrics
};

class LLMPipeline {
public:
    /// `model_path`: an IR .xml (or .onnx) with the tokenizer files beside it, a folder holding
    /// model.xml or openvino_model.xml and those files, or a Hugging Face folder (read by
    /// Core::read_model). Needs tokenizer.json; tokenizer_config.json, generation_config.json
    /// and config.json are read when present.
    explicit LLMPipeline(const std::string& model_path, const std::string& device = "CPU",
                         const AnyMap& properties = {});
    /// A model already in memory, with its tokenizer and the folder of its other files ("" for
    /// none).
    LLMPipeline(const std::shared_ptr<const Model>& model, Tokenizer tokenizer,
                const std::string& files_dir = "", const std::string& device = "CPU",
                const AnyMap& properties = {});
    ~LLMPipeline();
    LLMPipeline(LLMPipeline&&) noexcept;
    LLMPipeline& operator=(LLMPipeline&&) noexcept;

    /// Each prompt is encoded with the tokenizer's special tokens (a BOS where it declares one).
    GenerationResult generate(const std::string& prompt, const GenerationConfig& config,
                              const StreamerCallback& streamer = nullptr);
    GenerationResult generate(const std::string& prompt);
    /// Several prompts in one batch (left-padded); a streamer needs a single prompt.
    GenerationResult generate(const std::vector<std::string>& prompts,
                              const GenerationConfig& config,
                              const StreamerCallback& streamer = nullptr);
    /// Prompts given as token ids (e.g. a chat template's text encoded without special tokens).
    GenerationResult generate_ids(const std::vector<std::vector<int64_t>>& prompts,
                                  const GenerationConfig& config,
                                  const StreamerCallback& streamer = nullptr);

    /// The model's perplexity on `text` (encoded with special tokens).
    PerplexityResult perplexity(const std::string& text, const PerplexityOptions& options = {});
    PerplexityResult perplexity_ids(const std::vector<int64_t>& ids,
                                    const PerplexityOptions& options = {});

    /// The defaults generate(prompt) uses: generation_config.json, with the model's EOS ids.
    const GenerationConfig& generation_config() const;
    void set_generation_config(const GenerationConfig& config);
    const Tokenizer& tokenizer() const;
    const TokenizerConfig& tokenizer_config() const;

    struct Impl;  // src/genai/llm/pipeline_impl.hpp

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace kiln
