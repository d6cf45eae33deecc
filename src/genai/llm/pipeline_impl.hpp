#pragma once
// LLMPipeline's state: the compiled stateful model, its one infer request (the KV cache lives in
// its state), the tokenizer and the defaults read from the model's files.
#include <chrono>
#include <optional>
#include <set>

#include "kiln/llm_pipeline.hpp"

namespace kiln {

struct LLMPipeline::Impl {
    using Clock = std::chrono::steady_clock;

    /// Checks the model's ports and reads the files; the caller compiles the model.
    Impl(const Model& model, Tokenizer tokenizer, const std::string& files_dir);
    void set_compiled(CompiledModel model);

    /// `text`'s ids with the tokenizer's special tokens, and a BOS where tokenizer_config.json
    /// asks for one that the tokenizer did not add.
    std::vector<int64_t> encode(const std::string& text) const;
    /// One inference: ids and positions [B, S], mask [B, past + S]; returns logits [B, S', V]:
    /// S' = S, or min(S, logits_to_keep) when the model has that input and it is above 0.
    Tensor run(const Tensor& input_ids, const Tensor& attention_mask, const Tensor& position_ids,
               int64_t logits_to_keep = 0);

    GenerationResult generate(const std::vector<std::vector<int64_t>>& prompts,
                              const GenerationConfig& config, const StreamerCallback& streamer,
                              Clock::time_point start);
    PerplexityResult perplexity(const std::vector<int64_t>& ids, const PerplexityOptions& options);

    CompiledModel compiled;
    InferRequest request;
    Tokenizer tokenizer;
    TokenizerConfig tokenizer_config;
    GenerationConfig defaults;
    std::set<int64_t> eos_ids;  // every EOS the model's files name
    std::optional<int64_t> bos_id;
    int64_t pad_id = 0;
    int64_t max_context = 0;  // 0: unknown
    bool has_position_ids = false;
    bool has_beam_idx = false;  // OpenVINO's stateful exports reorder the cache by this input
    bool has_logits_to_keep = false;  // added by llm::with_logits_to_keep
    std::string logits_name;
};

}  // namespace kiln
