// LLMPipeline over the builders' graphs: greedy generation from token ids gives PyTorch's
// continuations (tests/hf/make_reference.py), alone and as a left-padded batch of two prompts.
#include <gtest/gtest.h>

#include "hf_reference.hpp"
#include "kiln/llm_pipeline.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::hf;

namespace {

void check_pipeline(const std::string& name) {
    const fs::path folder = fs::path(test::reference_root()) / name;
    if (!fs::exists(folder / "reference" / "reference.json"))
        GTEST_SKIP() << "no reference in " << folder;
    const nlohmann::json ref = test::read_json(folder / "reference" / "reference.json");
    LLMPipeline pipe(folder.string());  // a Hugging Face folder, as users give it
    GenerationConfig greedy;
    greedy.ignore_eos = true;
    const auto prompt = ref["prompt"].get<std::vector<int64_t>>();
    const auto expected = ref["greedy"].get<std::vector<int64_t>>();
    greedy.max_new_tokens = expected.size();
    EXPECT_EQ(pipe.generate_ids({prompt}, greedy).tokens[0], expected);

    // The batch's second row without its left padding: the pipeline pads it again.
    const auto ids = ref["batch_input_ids"].get<std::vector<std::vector<int64_t>>>();
    const auto mask = ref["batch_attention_mask"].get<std::vector<std::vector<int64_t>>>();
    std::vector<std::vector<int64_t>> prompts(ids.size());
    for (size_t b = 0; b < ids.size(); ++b)
        for (size_t t = 0; t < ids[b].size(); ++t)
            if (mask[b][t]) prompts[b].push_back(ids[b][t]);
    const auto batch_expected = ref["batch_greedy"].get<std::vector<std::vector<int64_t>>>();
    greedy.max_new_tokens = batch_expected[0].size();
    EXPECT_EQ(pipe.generate_ids(prompts, greedy).tokens, batch_expected);
}

}  // namespace

TEST(HfPipeline, Gpt2GreedyMatchesPyTorch) { check_pipeline("gpt2"); }
TEST(HfPipeline, LlamaGreedyMatchesPyTorch) { check_pipeline("llama"); }
TEST(HfPipeline, Qwen2GreedyMatchesPyTorch) { check_pipeline("qwen2"); }
TEST(HfPipeline, MistralGreedyMatchesPyTorch) { check_pipeline("mistral"); }
