// Perplexity of a token sequence: the text is read in windows of at most max_context tokens,
// each fed in chunks with the state carrying the window's earlier tokens; every token but the
// first is scored, the first of a window by the last logits of the window before it.
#include <algorithm>
#include <cmath>

#include "genai/llm/model_files.hpp"
#include "genai/llm/pipeline_impl.hpp"
#include "kiln/error.hpp"

namespace kiln {

namespace {

constexpr int64_t kDefaultContext = 2048;

/// -log softmax(logits)[target], in double.
double nll(const float* logits, int64_t vocab, int64_t target) {
    double mx = logits[0];
    for (int64_t i = 1; i < vocab; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
    double sum = 0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(logits[i] - mx);
    return mx + std::log(sum) - logits[target];
}

}  // namespace

PerplexityResult LLMPipeline::Impl::perplexity(const std::vector<int64_t>& ids,
                                               const PerplexityOptions& options) {
    KILN_CHECK(ids.size() >= 2, "perplexity: the text must have at least 2 tokens, got ",
               ids.size());
    KILN_CHECK(options.chunk > 0, "perplexity: chunk must be at least 1");
    const int64_t window = options.max_context > 0 ? static_cast<int64_t>(options.max_context)
                           : max_context > 0       ? max_context
                                                   : kDefaultContext;
    const int64_t chunk = std::min(static_cast<int64_t>(options.chunk), window);
    const int64_t n = static_cast<int64_t>(ids.size());

    double total = 0;
    size_t scored = 0;
    std::vector<float> carry;  // logits predicting the first token of the next window
    for (int64_t begin = 0; begin < n; begin += window) {
        const int64_t end = std::min(n, begin + window);
        request.reset_state();
        if (!carry.empty()) {
            total += nll(carry.data(), static_cast<int64_t>(carry.size()), ids[begin]);
            ++scored;
            carry.clear();
        }
        for (int64_t c0 = begin; c0 < end; c0 += chunk) {
            const int64_t c1 = std::min(end, c0 + chunk), len = c1 - c0;
            Tensor input(ElementType::i64, {1, len}), positions(ElementType::i64, {1, len});
            Tensor mask(ElementType::i64, {1, c1 - begin});
            for (int64_t t = 0; t < len; ++t) {
                input.data<int64_t>()[t] = ids[c0 + t];
                positions.data<int64_t>()[t] = c0 + t - begin;
            }
            std::fill_n(mask.data<int64_t>(), mask.size(), int64_t{1});
            const Tensor logits = run(input, mask, positions);
            const int64_t vocab = logits.shape()[2];
            for (int64_t t = 0; t < len; ++t) {
                const int64_t target = c0 + t + 1;
                if (target >= n) break;
                const float* row = logits.data<float>() + t * vocab;
                KILN_CHECK(ids[target] >= 0 && ids[target] < vocab, "perplexity: token id ",
                           ids[target], " is outside the model's vocabulary of ", vocab);
                if (target < end) {
                    total += nll(row, vocab, ids[target]);
                    ++scored;
                } else {
                    carry.assign(row, row + vocab);
                }
            }
        }
    }
    request.reset_state();
    PerplexityResult r;
    r.scored_tokens = scored;
    r.mean_nll = total / static_cast<double>(scored);
    r.perplexity = std::exp(r.mean_nll);
    r.peak_memory_kib = llm::peak_memory_kib();
    return r;
}

}  // namespace kiln
