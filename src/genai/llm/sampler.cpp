#include "genai/llm/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::llm {

namespace {

constexpr float kRemoved = -std::numeric_limits<float>::infinity();

}  // namespace

void apply_repetition_penalty(std::span<float> logits, const std::vector<uint8_t>& seen,
                              float penalty) {
    if (penalty == 1.0f) return;
    const size_t n = std::min(logits.size(), seen.size());
    for (size_t i = 0; i < n; ++i)
        if (seen[i]) logits[i] = logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty;
}

void apply_presence_frequency(std::span<float> logits, const std::vector<int32_t>& counts,
                              float presence, float frequency) {
    if (presence == 0.0f && frequency == 0.0f) return;
    const size_t n = std::min(logits.size(), counts.size());
    for (size_t i = 0; i < n; ++i)
        if (counts[i] > 0) logits[i] -= static_cast<float>(counts[i]) * frequency + presence;
}

void apply_temperature(std::span<float> logits, float temperature) {
    if (temperature == 1.0f) return;
    for (float& l : logits) l /= temperature;
}

void apply_top_k(std::span<float> logits, size_t k) {
    if (k == 0 || k >= logits.size()) return;
    std::vector<float> sorted(logits.begin(), logits.end());
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(k - 1), sorted.end(),
                     std::greater<float>());
    const float kth = sorted[k - 1];
    for (float& l : logits)
        if (l < kth) l = kRemoved;
}

void apply_top_p(std::span<float> logits, float top_p) {
    if (top_p >= 1.0f) return;
    const std::vector<double> probs = softmax(logits);
    // Only tokens still in play are sorted: after top-k that is a handful of a large vocabulary.
    // (A probability that underflowed to 0 stays as it is: no draw can pick it.)
    std::vector<size_t> order;
    for (size_t i = 0; i < logits.size(); ++i)
        if (probs[i] > 0) order.push_back(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return probs[a] > probs[b]; });
    // A token stays while the tokens ranked above it hold less than top_p (so the first stays).
    double above = 0;
    size_t i = 0;
    for (; i < order.size() && above < top_p; ++i) above += probs[order[i]];
    for (; i < order.size(); ++i) logits[order[i]] = kRemoved;
}

void apply_min_p(std::span<float> logits, float min_p) {
    if (min_p <= 0.0f) return;
    const std::vector<double> probs = softmax(logits);
    const double threshold = min_p * *std::max_element(probs.begin(), probs.end());
    for (size_t i = 0; i < logits.size(); ++i)
        if (probs[i] < threshold) logits[i] = kRemoved;
}

// Greedy decoding runs this over the whole vocabulary every step: 16 running maxima (a loop the
// compiler vectorizes) then the first position holding the largest, instead of
// std::max_element's one branchy compare per logit. NaNs are never chosen; with no number
// above -inf the first position wins.
int64_t argmax(std::span<const float> logits) {
    constexpr size_t kLanes = 16;
    const float* x = logits.data();
    const size_t n = logits.size();
    float lane[kLanes];
    std::fill(lane, lane + kLanes, -std::numeric_limits<float>::infinity());
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
        for (size_t l = 0; l < kLanes; ++l) lane[l] = x[i + l] > lane[l] ? x[i + l] : lane[l];
    float mx = -std::numeric_limits<float>::infinity();
    for (size_t l = 0; l < kLanes; ++l) mx = lane[l] > mx ? lane[l] : mx;
    for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
    for (size_t j = 0; j < n; ++j)
        if (x[j] == mx) return static_cast<int64_t>(j);
    return 0;
}

std::vector<double> softmax(std::span<const float> logits) {
    std::vector<double> p(logits.size(), 0.0);
    if (logits.empty()) return p;
    const double mx = *std::max_element(logits.begin(), logits.end());
    if (!std::isfinite(mx)) {
        // Every token removed or an overflowed logit: fall back to the argmax alone.
        p[argmax(logits)] = 1.0;
        return p;
    }
    double sum = 0;
    for (size_t i = 0; i < logits.size(); ++i) sum += p[i] = std::exp(logits[i] - mx);
    for (double& v : p) v /= sum;
    return p;
}

int64_t sample_from(std::span<const float> logits, std::mt19937_64& rng) {
    const std::vector<double> p = softmax(logits);
    // 53 random bits, not std::uniform_real_distribution, whose algorithm differs by library.
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    double cum = 0;
    int64_t last = -1;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] <= 0) continue;
        cum += p[i];
        last = static_cast<int64_t>(i);
        if (u < cum) return last;
    }
    return last;  // rounding left u just above the total
}

Sampler::Sampler(const GenerationConfig& config, const std::vector<int64_t>& prompt)
    : config_(config), prompt_(prompt), rng_(config.seed) {}

void Sampler::size_for(size_t vocab) {
    if (seen_.size() == vocab) return;
    seen_.assign(vocab, 0);
    counts_.assign(vocab, 0);
    for (int64_t t : prompt_)
        if (t >= 0 && static_cast<size_t>(t) < vocab) seen_[t] = 1;
    for (int64_t t : generated_)
        if (t >= 0 && static_cast<size_t>(t) < vocab) seen_[t] = 1, ++counts_[t];
}

int64_t Sampler::next(std::span<float> logits) {
    size_for(logits.size());
    if (generated_.size() < config_.min_new_tokens) {
        for (const auto* ids : {&config_.eos_token_ids, &config_.stop_token_ids})
            for (int64_t id : *ids)
                if (static_cast<size_t>(id) < logits.size()) logits[id] = kRemoved;
    }
    apply_repetition_penalty(logits, seen_, config_.repetition_penalty);
    apply_presence_frequency(logits, counts_, config_.presence_penalty, config_.frequency_penalty);
    if (!config_.do_sample) return argmax(logits);
    apply_temperature(logits, config_.temperature);
    apply_top_k(logits, config_.top_k);
    apply_top_p(logits, config_.top_p);
    apply_min_p(logits, config_.min_p);
    return sample_from(logits, rng_);
}

void Sampler::accept(int64_t token) {
    generated_.push_back(token);
    if (token >= 0 && static_cast<size_t>(token) < seen_.size()) seen_[token] = 1, ++counts_[token];
}

}  // namespace kiln::llm
