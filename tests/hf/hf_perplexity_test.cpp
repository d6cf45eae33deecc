// LLMPipeline's perplexity and streaming on the Hugging Face folders of
// tests/hf/make_reference.py (gpt2, llama, qwen2, mistral): the perplexity of the prompt follows
// the reference logits and does not depend on the chunk size; streamed text is the returned text.
// (hf_pipeline_test.cpp checks the greedy and batch continuations.)
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "hf_reference.hpp"
#include "kiln/llm_pipeline.hpp"
#include "kiln/runtime.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using Ids = std::vector<int64_t>;

namespace {

/// exp(mean NLL) of prompt[t + 1] under logits [1, n, V] row t.
double reference_perplexity(const Tensor& logits, const Ids& prompt) {
    const int64_t vocab = logits.shape()[2];
    double total = 0;
    for (size_t t = 0; t + 1 < prompt.size(); ++t) {
        const float* row = logits.data<float>() + t * vocab;
        double mx = row[0], sum = 0;
        for (int64_t v = 1; v < vocab; ++v) mx = std::max(mx, static_cast<double>(row[v]));
        for (int64_t v = 0; v < vocab; ++v) sum += std::exp(row[v] - mx);
        total += mx + std::log(sum) - row[prompt[t + 1]];
    }
    return std::exp(total / static_cast<double>(prompt.size() - 1));
}

void check_perplexity(const std::string& name) {
    const fs::path folder = fs::path(hf::test::reference_root()) / name;
    const fs::path ref_dir = folder / "reference";
    if (!fs::exists(ref_dir / "reference.json"))
        GTEST_SKIP() << "no reference in " << folder
                     << ": run tests/hf/make_reference.py (ctest runs it as hf_make_reference)";
    const auto ref = hf::test::read_json(ref_dir / "reference.json");
    LLMPipeline pipe(folder.string());

    GenerationConfig c = pipe.generation_config();
    c.ignore_eos = true;  // PyTorch's continuation does not stop at EOS
    const Ids prompt = ref["prompt"].get<Ids>();
    const Ids greedy = ref["greedy"].get<Ids>();
    c.max_new_tokens = greedy.size();
    std::string streamed;
    const auto r = pipe.generate_ids({prompt}, c, [&](const std::string& s) {
        streamed += s;
        return true;
    });
    EXPECT_EQ(r.tokens[0], greedy) << "greedy continuation differs";
    EXPECT_EQ(streamed, r.texts[0]);

    // Perplexity of the prompt from the reference logits, and independent of the chunking.
    const Tensor prompt_logits = read_npy((ref_dir / "prompt_logits.npy").string());
    const double expected = reference_perplexity(prompt_logits, prompt);
    EXPECT_NEAR(pipe.perplexity_ids(prompt).perplexity, expected, 1e-3 * expected);
    Ids text = prompt;
    text.insert(text.end(), greedy.begin(), greedy.end());
    const double whole = pipe.perplexity_ids(text, {0, 512}).perplexity;
    for (size_t chunk : {size_t{1}, size_t{7}}) {
        SCOPED_TRACE("chunk " + std::to_string(chunk));
        EXPECT_NEAR(pipe.perplexity_ids(text, {0, chunk}).perplexity, whole, 1e-4 * whole);
    }
    std::printf("[ generation ] %s: %zu greedy tokens, perplexity %.3f\n", name.c_str(),
                greedy.size(), whole);
}

}  // namespace

TEST(HfPerplexity, Gpt2) { check_perplexity("gpt2"); }
TEST(HfPerplexity, Llama) { check_perplexity("llama"); }
TEST(HfPerplexity, Qwen2) { check_perplexity("qwen2"); }
TEST(HfPerplexity, Mistral) { check_perplexity("mistral"); }
