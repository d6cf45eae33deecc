#pragma once
// Picking the next token from one row of logits. The processors follow Hugging Face's
// transformers in order and semantics (penalties, then the warpers temperature, top-k, top-p,
// min-p); presence and frequency penalties follow OpenAI's definition. Each modifies the logits
// in place; removed tokens become -inf.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "kiln/llm_pipeline.hpp"

namespace kiln::llm {

/// Logits of tokens in `seen` divided by `penalty` when positive, multiplied when negative.
void apply_repetition_penalty(std::span<float> logits, const std::vector<uint8_t>& seen,
                              float penalty);
/// logit[j] -= count[j] * frequency + (count[j] > 0) * presence.
void apply_presence_frequency(std::span<float> logits, const std::vector<int32_t>& counts,
                              float presence, float frequency);
void apply_temperature(std::span<float> logits, float temperature);
/// Keeps the k largest logits and every logit tied with the k-th.
void apply_top_k(std::span<float> logits, size_t k);
/// Keeps the most probable tokens until their probability reaches top_p (at least one).
void apply_top_p(std::span<float> logits, float top_p);
/// Keeps tokens whose probability is at least min_p times the largest probability.
void apply_min_p(std::span<float> logits, float min_p);

/// The first index of the largest logit.
int64_t argmax(std::span<const float> logits);
/// softmax(logits) in double; -inf gives 0.
std::vector<double> softmax(std::span<const float> logits);
/// Draws from softmax(logits); the same generator state gives the same token on every platform.
int64_t sample_from(std::span<const float> logits, std::mt19937_64& rng);

/// The sampling of one sequence: remembers its tokens for the penalties and owns its generator.
class Sampler {
public:
    Sampler(const GenerationConfig& config, const std::vector<int64_t>& prompt);
    /// Processes `logits` (the vocabulary of one position) in place and picks a token; EOS and
    /// stop tokens are suppressed while fewer than min_new_tokens were generated.
    int64_t next(std::span<float> logits);
    /// Records a generated token (for the penalties and min_new_tokens).
    void accept(int64_t token);

private:
    void size_for(size_t vocab);

    GenerationConfig config_;
    std::vector<int64_t> prompt_;
    std::vector<int64_t> generated_;
    std::vector<uint8_t> seen_;    // prompt and generated tokens, sized to the vocabulary
    std::vector<int32_t> counts_;  // generated tokens only
    std::mt19937_64 rng_;
};

}  // namespace kiln::llm
