// LLMPipeline on the Hugging Face folders of tests/hf/make_reference.py (gpt2, llama, qwen2,
// mistral): its greedy continuations, alone and in a left-padded batch, must be PyTorch's token
// for token, and its perplexity must follow the reference logits and not depend on the chunk
// size. The folders have no tokenizer; a synthetic one with one token per id stands in.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "hf_reference.hpp"
#include "kiln/llm_pipeline.hpp"
#include "kiln/runtime.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using Ids = std::vector<int64_t>;

namespace {

/// A BPE tokenizer.json whose token i is "<i>", so that every id decodes.
std::string synthetic_tokenizer(int64_t vocab) {
    nlohmann::json v;
    for (int64_t i = 0; i < vocab; ++i) v["<" + std::to_string(i) + ">"] = i;
    return nlohmann::json{
        {"added_tokens", nlohmann::json::array()},
        {"normalizer", nullptr},
        {"pre_tokenizer", nullptr},
        {"post_processor", nullptr},
        {"decoder", nullptr},
        {"model", {{"type", "BPE"}, {"vocab", v}, {"merges", nlohmann::json::array()}}}}
        .dump();
}

/// A copy of the reference folder (its files linked) with the synthetic tokenizer.json beside.
class FolderWithTokenizer {
public:
    FolderWithTokenizer(const fs::path& source, int64_t vocab, const std::string& name)
        : dir_(fs::temp_directory_path() /
               ("kiln_hf_generation_" + name + "_" + std::to_string(::getpid()))) {
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        for (const auto& e : fs::directory_iterator(source))
            if (e.is_regular_file())
                fs::create_symlink(fs::absolute(e.path()), dir_ / e.path().filename());
        std::ofstream(dir_ / "tokenizer.json") << synthetic_tokenizer(vocab);
    }
    ~FolderWithTokenizer() { fs::remove_all(dir_); }
    std::string path() const { return dir_.string(); }

private:
    fs::path dir_;
};

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

void run_generation(const std::string& name) {
    const fs::path folder = fs::path(hf::test::reference_root()) / name;
    const fs::path ref_dir = folder / "reference";
    if (!fs::exists(ref_dir / "reference.json"))
        GTEST_SKIP() << "no reference in " << folder
                     << ": run tests/hf/make_reference.py (ctest runs it as hf_make_reference)";
    const auto ref = hf::test::read_json(ref_dir / "reference.json");
    const int64_t vocab = hf::test::read_config(folder).vocab_size;
    const FolderWithTokenizer files(folder, vocab, name);
    LLMPipeline pipe(files.path());  // Core::read_model reads the Hugging Face folder

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

    // The batch: each row's real tokens, left-padded again by the pipeline.
    const auto ids = ref["batch_input_ids"].get<std::vector<Ids>>();
    const auto mask = ref["batch_attention_mask"].get<std::vector<Ids>>();
    const auto batch_greedy = ref["batch_greedy"].get<std::vector<Ids>>();
    std::vector<Ids> rows(ids.size());
    for (size_t b = 0; b < ids.size(); ++b)
        for (size_t t = 0; t < ids[b].size(); ++t)
            if (mask[b][t]) rows[b].push_back(ids[b][t]);
    if (!batch_greedy.empty() && !batch_greedy[0].empty()) {
        c.max_new_tokens = batch_greedy[0].size();
        EXPECT_EQ(pipe.generate_ids(rows, c).tokens, batch_greedy) << "batch continuation differs";
    }

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

TEST(HfGeneration, Gpt2) { run_generation("gpt2"); }
TEST(HfGeneration, Llama) { run_generation("llama"); }
TEST(HfGeneration, Qwen2) { run_generation("qwen2"); }
TEST(HfGeneration, Mistral) { run_generation("mistral"); }
