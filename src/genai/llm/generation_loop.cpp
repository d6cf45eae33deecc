// The generation loop: a left-padded prefill of every prompt, then one token per row and step,
// with the KV cache carried by the model's state.
#include <algorithm>
#include <memory>

#include "genai/llm/model_files.hpp"
#include "genai/llm/pipeline_impl.hpp"
#include "genai/llm/sampler.hpp"
#include "genai/llm/stop_strings.hpp"
#include "kiln/error.hpp"

namespace kiln {

namespace {

using Clock = LLMPipeline::Impl::Clock;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

/// One prompt's progress.
struct Row {
    std::unique_ptr<llm::Sampler> sampler;
    std::unique_ptr<llm::StopStringText> text;
    std::vector<int64_t> tokens;
    size_t generated = 0;  // tokens sampled, including one that ended the row
    int64_t next_position = 0;
    int64_t last_token = 0;
    std::string finish_reason;  // empty while running
};

/// The batch's prefill inputs: prompts right-aligned, padding masked, positions counting only
/// real tokens (padding gets position 1, as Hugging Face does, and is masked out anyway).
void fill_prefill(const std::vector<std::vector<int64_t>>& prompts, int64_t pad_id, Tensor& ids,
                  Tensor& mask, Tensor& positions) {
    const int64_t batch = static_cast<int64_t>(prompts.size());
    int64_t len = 0;
    for (const auto& p : prompts) len = std::max(len, static_cast<int64_t>(p.size()));
    ids = Tensor(ElementType::i64, {batch, len});
    mask = Tensor(ElementType::i64, {batch, len});
    positions = Tensor(ElementType::i64, {batch, len});
    for (int64_t b = 0; b < batch; ++b) {
        const auto& p = prompts[b];
        const int64_t pad = len - static_cast<int64_t>(p.size());
        for (int64_t t = 0; t < len; ++t) {
            const bool real = t >= pad;
            ids.data<int64_t>()[b * len + t] = real ? p[t - pad] : pad_id;
            mask.data<int64_t>()[b * len + t] = real;
            positions.data<int64_t>()[b * len + t] = real ? t - pad : 1;
        }
    }
}

}  // namespace

GenerationResult LLMPipeline::Impl::generate(const std::vector<std::vector<int64_t>>& prompts,
                                             const GenerationConfig& user_config,
                                             const StreamerCallback& streamer,
                                             Clock::time_point start) {
    KILN_CHECK(!prompts.empty(), "generate: no prompt");
    for (size_t i = 0; i < prompts.size(); ++i)
        KILN_CHECK(!prompts[i].empty(), "generate: prompt ", i, " has no tokens");
    KILN_CHECK(!streamer || prompts.size() == 1, "generate: a streamer needs a single prompt, got ",
               prompts.size());
    GenerationConfig config = user_config;
    if (config.eos_token_ids.empty()) config.eos_token_ids = eos_ids;
    config.validate();
    // Special tokens are dropped from the decoded text, so a stop string naming one (a chat
    // model's "<|im_end|>") is matched as its token id.
    for (const auto& s : config.stop_strings)
        if (auto id = tokenizer.token_to_id(s); id && tokenizer.is_special(*id))
            config.stop_token_ids.insert(*id);
    if (max_context > 0)
        for (size_t i = 0; i < prompts.size(); ++i)
            KILN_CHECK(static_cast<int64_t>(prompts[i].size()) < max_context, "generate: prompt ",
                       i, " has ", prompts[i].size(), " tokens, the model's context ", max_context,
                       " leaves no room to generate");

    const int64_t batch = static_cast<int64_t>(prompts.size());
    std::vector<Row> rows(prompts.size());
    GenerationMetrics metrics;
    for (size_t b = 0; b < rows.size(); ++b) {
        rows[b].sampler = std::make_unique<llm::Sampler>(config, prompts[b]);
        rows[b].text = std::make_unique<llm::StopStringText>(tokenizer, config.stop_strings);
        rows[b].next_position = static_cast<int64_t>(prompts[b].size());
        metrics.prompt_tokens += prompts[b].size();
    }
    bool cancelled = false;
    auto stream = [&] {
        if (!streamer || cancelled) return;
        const std::string piece = rows[0].text->take_ready();
        if (!piece.empty() && !streamer(piece)) cancelled = true;
    };

    // Samples each running row's next token from its last position of `logits` [B, S, V].
    std::vector<float> row_logits;  // the sampler's working copy, reused every step
    auto sample_step = [&](const Tensor& logits) {
        const int64_t seq = logits.shape()[1], vocab = logits.shape()[2];
        row_logits.resize(static_cast<size_t>(vocab));
        for (int64_t b = 0; b < batch; ++b) {
            Row& r = rows[b];
            if (!r.finish_reason.empty()) continue;
            const float* src = logits.data<float>() + ((b * seq) + seq - 1) * vocab;
            std::copy(src, src + vocab, row_logits.begin());
            const int64_t token = r.sampler->next(row_logits);
            r.sampler->accept(token);
            ++r.generated;
            r.last_token = token;
            if (!config.ignore_eos && config.eos_token_ids.count(token)) {
                r.finish_reason = "eos";
            } else if (config.stop_token_ids.count(token)) {
                r.finish_reason = "stop_token";
            } else {
                r.tokens.push_back(token);
                if (r.text->put(token)) r.finish_reason = "stop_string";
            }
            // The token just sampled would take position next_position: past the context, the
            // model cannot read it.
            if (r.finish_reason.empty() && (r.generated >= config.max_new_tokens ||
                                            (max_context > 0 && r.next_position >= max_context)))
                r.finish_reason = "length";
        }
    };
    auto running = [&] {
        if (cancelled) return false;
        return std::any_of(rows.begin(), rows.end(),
                           [](const Row& r) { return r.finish_reason.empty(); });
    };

    request.reset_state();
    Tensor ids, mask, positions;
    fill_prefill(prompts, pad_id, ids, mask, positions);
    const auto prefill_start = Clock::now();
    sample_step(run(ids, mask, positions, /*logits_to_keep=*/1));
    metrics.prefill_ms = ms_since(prefill_start);
    metrics.ttft_ms = ms_since(start);
    stream();

    // Decode: finished rows keep feeding a pad token; their outputs are ignored and attention
    // never mixes rows, so they do not change the others.
    std::vector<double> step_ms;
    int64_t past = ids.shape()[1];
    std::vector<int64_t> mask_history(mask.data<int64_t>(), mask.data<int64_t>() + mask.size());
    while (running()) {
        const auto step_start = Clock::now();
        Tensor step_ids(ElementType::i64, {batch, 1}), step_pos(ElementType::i64, {batch, 1});
        Tensor step_mask(ElementType::i64, {batch, past + 1});
        for (int64_t b = 0; b < batch; ++b) {
            Row& r = rows[b];
            const bool active = r.finish_reason.empty();
            step_ids.data<int64_t>()[b] = active ? r.last_token : pad_id;
            // A finished row stays at its last position, which the model's context holds.
            step_pos.data<int64_t>()[b] = active ? r.next_position++ : r.next_position - 1;
            int64_t* m = step_mask.data<int64_t>() + b * (past + 1);
            std::copy_n(mask_history.data() + b * past, past, m);
            m[past] = 1;
        }
        mask_history.assign(step_mask.data<int64_t>(),
                            step_mask.data<int64_t>() + step_mask.size());
        ++past;
        sample_step(run(step_ids, step_mask, step_pos, /*logits_to_keep=*/1));
        step_ms.push_back(ms_since(step_start));
        stream();
    }

    GenerationResult result;
    for (Row& r : rows) {
        if (r.finish_reason.empty()) r.finish_reason = "cancelled";
        if (r.text->finish() && r.finish_reason != "cancelled") r.finish_reason = "stop_string";
        result.texts.push_back(r.text->text());
        result.tokens.push_back(std::move(r.tokens));
        result.finish_reasons.push_back(r.finish_reason);
        metrics.generated_tokens += r.generated;
    }
    if (streamer && !cancelled) {
        const std::string rest = rows[0].text->take_ready();
        if (!rest.empty()) streamer(rest);
    }

    metrics.decode_steps = step_ms.size();
    for (double t : step_ms) metrics.decode_ms += t;
    if (metrics.prefill_ms > 0)
        metrics.prefill_tokens_per_s =
            1e3 * static_cast<double>(metrics.prompt_tokens) / metrics.prefill_ms;
    const size_t decoded = metrics.generated_tokens - rows.size();  // the first came at prefill
    if (metrics.decode_ms > 0)
        metrics.decode_tokens_per_s = 1e3 * static_cast<double>(decoded) / metrics.decode_ms;
    if (!step_ms.empty()) {
        std::nth_element(step_ms.begin(), step_ms.begin() + step_ms.size() / 2, step_ms.end());
        metrics.median_token_latency_ms = step_ms[step_ms.size() / 2];
    }
    metrics.peak_memory_kib = llm::peak_memory_kib();
    result.metrics = metrics;
    return result;
}

}  // namespace kiln
