// LLMPipeline on the hand-checkable tiny stateful model of tiny_llm.hpp: greedy and sampled
// generation, the state across steps and calls, stop criteria, streaming, batching with left
// padding, loading from a folder, and perplexity.
#include "kiln/llm_pipeline.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "kiln/error.hpp"
#include "kiln/ir.hpp"
#include "tiny_llm.hpp"

using namespace kiln;
using Ids = std::vector<int64_t>;
namespace fs = std::filesystem;

namespace {

LLMPipeline tiny_pipeline() { return LLMPipeline(tiny_llm::model(), tiny_llm::tokenizer()); }

GenerationConfig greedy(size_t max_new_tokens) {
    GenerationConfig c;
    c.max_new_tokens = max_new_tokens;
    return c;
}

/// The greedy continuation of `prompt` by the formula, `count` tokens long.
Ids expected_greedy(const Ids& prompt, size_t count) {
    Ids out;
    int64_t t = prompt.back(), n = static_cast<int64_t>(prompt.size());
    for (size_t i = 0; i < count; ++i) {
        t = tiny_llm::next_token(t, n++);
        out.push_back(t);
    }
    return out;
}

}  // namespace

TEST(LlmPipeline, TinyModelFollowsItsFormula) {
    auto compiled = Core().compile_model(tiny_llm::model());
    auto req = compiled.create_infer_request();
    req.set_tensor("input_ids", Tensor::from_vector<int64_t>({0, 1, 2}, {1, 3}));
    req.set_tensor("attention_mask", Tensor::from_vector<int64_t>({1, 1, 1}, {1, 3}));
    req.set_tensor("position_ids", Tensor::from_vector<int64_t>({0, 1, 2}, {1, 3}));
    req.infer();
    const Tensor logits = req.get_tensor("logits");
    ASSERT_EQ(logits.shape(), (Shape{1, 3, tiny_llm::kVocab}));
    // Position 2: token 2, n = 3, position 2 -> target 7.
    EXPECT_EQ(logits.data<float>()[2 * tiny_llm::kVocab + 7], 0.f);
    EXPECT_EQ(logits.data<float>()[2 * tiny_llm::kVocab + 5], -2.f);
}

TEST(LlmPipeline, GreedyFollowsTheStateAcrossSteps) {
    LLMPipeline pipe = tiny_pipeline();
    EXPECT_EQ(pipe.tokenizer().encode("abc"), (Ids{0, 1, 2}));
    const auto r = pipe.generate("abc", greedy(5));
    // 2 + 2*3 - 1 = 7 (h), 7 + 7 = 14 (o), 14 + 9 = 23 (x), 23 + 11 = 34 = 2 (c), 2 + 13 = 15 (p).
    EXPECT_EQ(r.tokens.at(0), (Ids{7, 14, 23, 2, 15}));
    EXPECT_EQ(r.texts.at(0), "hoxcp");
    EXPECT_EQ(r.finish_reasons.at(0), "length");
    EXPECT_EQ(pipe.generate("abc", greedy(40)).tokens[0], expected_greedy({0, 1, 2}, 40));
}

TEST(LlmPipeline, StateIsResetBetweenCalls) {
    LLMPipeline pipe = tiny_pipeline();
    const auto first = pipe.generate("hello", greedy(12));
    pipe.generate("abc", greedy(3));
    EXPECT_EQ(pipe.generate("hello", greedy(12)).tokens, first.tokens);
}

TEST(LlmPipeline, EosEndsARowAndIsNotReturned) {
    LLMPipeline pipe = tiny_pipeline();
    GenerationConfig c = greedy(20);
    c.eos_token_ids = {16};  // "a" continues with b e j q
    auto r = pipe.generate("a", c);
    EXPECT_EQ(r.tokens[0], (Ids{1, 4, 9}));
    EXPECT_EQ(r.texts[0], "bej");
    EXPECT_EQ(r.finish_reasons[0], "eos");
    EXPECT_EQ(r.metrics.generated_tokens, 4u);

    c.ignore_eos = true;
    c.max_new_tokens = 6;
    r = pipe.generate("a", c);
    EXPECT_EQ(r.tokens[0], expected_greedy({0}, 6));
    EXPECT_EQ(r.finish_reasons[0], "length");
}

TEST(LlmPipeline, MinNewTokensSuppressesEos) {
    LLMPipeline pipe = tiny_pipeline();
    GenerationConfig c = greedy(5);
    c.eos_token_ids = {16};
    c.min_new_tokens = 5;
    const auto r = pipe.generate("a", c);
    // At the 4th token 16 is removed; 15 and 17 tie at -1 and argmax takes the first.
    ASSERT_EQ(r.tokens[0].size(), 5u);
    EXPECT_EQ(Ids(r.tokens[0].begin(), r.tokens[0].begin() + 4), (Ids{1, 4, 9, 15}));
    EXPECT_EQ(r.tokens[0][4], tiny_llm::next_token(15, 5));
}

TEST(LlmPipeline, StopStringsAcrossTokensAreCutFromTextAndStream) {
    LLMPipeline pipe = tiny_pipeline();
    GenerationConfig c = greedy(20);
    c.stop_strings = {"jq", "zzz"};
    std::vector<std::string> pieces;
    const auto r = pipe.generate("a", c, [&](const std::string& s) {
        pieces.push_back(s);
        return true;
    });
    EXPECT_EQ(r.texts[0], "be");
    EXPECT_EQ(r.finish_reasons[0], "stop_string");
    EXPECT_EQ(r.tokens[0], (Ids{1, 4, 9, 16}));
    std::string streamed;
    for (const auto& p : pieces) streamed += p;
    EXPECT_EQ(streamed, "be");
    // "j" was held back (it may begin "jq") and never streamed.
    for (const auto& p : pieces) EXPECT_EQ(p.find('j'), std::string::npos);
}

TEST(LlmPipeline, HeldBackTextIsReleasedWhenTheStopStringDoesNotFollow) {
    LLMPipeline pipe = tiny_pipeline();
    GenerationConfig c = greedy(8);
    c.stop_strings = {"jx"};  // "a" continues b e j q z ...: "j" is held, then released
    std::vector<std::string> pieces;
    const auto r = pipe.generate("a", c, [&](const std::string& s) {
        pieces.push_back(s);
        return true;
    });
    std::string streamed;
    for (const auto& p : pieces) streamed += p;
    EXPECT_EQ(streamed, r.texts[0]);
    EXPECT_EQ(r.finish_reasons[0], "length");
    EXPECT_NE(std::find(pieces.begin(), pieces.end(), "jq"), pieces.end());
}

TEST(LlmPipeline, StopTokenIds) {
    LLMPipeline pipe = tiny_pipeline();
    GenerationConfig c = greedy(20);
    c.stop_token_ids = {9};
    auto r = pipe.generate("a", c);
    EXPECT_EQ(r.tokens[0], (Ids{1, 4}));
    EXPECT_EQ(r.finish_reasons[0], "stop_token");
    // A stop string naming a special token stops at that token: "abc" -> h o x c p <s> ...
    c.stop_token_ids.clear();
    c.stop_strings = {"<s>"};
    r = pipe.generate("abc", c);
    EXPECT_EQ(r.tokens[0], (Ids{7, 14, 23, 2, 15}));
    EXPECT_EQ(r.finish_reasons[0], "stop_token");
}

TEST(LlmPipeline, StreamedTextConcatenatesToTheResult) {
    LLMPipeline pipe = tiny_pipeline();
    std::string streamed;
    size_t calls = 0;
    const auto r = pipe.generate("hello world", greedy(25), [&](const std::string& s) {
        streamed += s;
        ++calls;
        return true;
    });
    EXPECT_EQ(streamed, r.texts[0]);
    EXPECT_EQ(r.texts[0], pipe.tokenizer().decode(r.tokens[0], true));
    EXPECT_GT(calls, 5u);

    // A streamer returning false stops the generation.
    calls = 0;
    const auto stopped =
        pipe.generate("hello world", greedy(25), [&](const std::string&) { return ++calls < 3; });
    EXPECT_EQ(stopped.finish_reasons[0], "cancelled");
    EXPECT_EQ(calls, 3u);
    EXPECT_LT(stopped.tokens[0].size(), 25u);
}

TEST(LlmPipeline, SeededSamplingIsReproducible) {
    LLMPipeline pipe = tiny_pipeline();
    GenerationConfig c = greedy(30);
    c.do_sample = true;
    c.temperature = 1.5f;
    c.ignore_eos = true;
    c.seed = 7;
    const auto a = pipe.generate("abc", c), b = pipe.generate("abc", c);
    EXPECT_EQ(a.tokens, b.tokens);
    EXPECT_NE(a.tokens[0], expected_greedy({0, 1, 2}, 30));  // it did sample
    c.seed = 8;
    EXPECT_NE(pipe.generate("abc", c).tokens, a.tokens);
    // top_k = 1 is greedy whatever the seed.
    c.top_k = 1;
    EXPECT_EQ(pipe.generate("abc", c).tokens[0], expected_greedy({0, 1, 2}, 30));
}

TEST(LlmPipeline, BatchWithLeftPaddingMatchesEachPromptAlone) {
    LLMPipeline pipe = tiny_pipeline();
    const std::vector<std::string> prompts = {"abc", "hello world", "z"};
    for (bool sample : {false, true}) {
        GenerationConfig c = greedy(16);
        c.do_sample = sample;
        c.seed = 3;
        c.eos_token_ids = {16};  // ends some rows early; the others carry on
        const auto batch = pipe.generate(prompts, c);
        ASSERT_EQ(batch.tokens.size(), 3u);
        for (size_t i = 0; i < prompts.size(); ++i) {
            SCOPED_TRACE(prompts[i] + (sample ? " sampled" : " greedy"));
            const auto alone = pipe.generate(prompts[i], c);
            EXPECT_EQ(batch.tokens[i], alone.tokens[0]);
            EXPECT_EQ(batch.texts[i], alone.texts[0]);
            EXPECT_EQ(batch.finish_reasons[i], alone.finish_reasons[0]);
        }
    }
}

TEST(LlmPipeline, Metrics) {
    LLMPipeline pipe = tiny_pipeline();
    const auto r = pipe.generate(std::vector<std::string>{"abc", "hello"}, greedy(6));
    const auto& m = r.metrics;
    EXPECT_EQ(m.prompt_tokens, 8u);
    EXPECT_EQ(m.generated_tokens, 12u);
    EXPECT_EQ(m.decode_steps, 5u);
    EXPECT_GT(m.ttft_ms, 0);
    EXPECT_GE(m.ttft_ms, m.prefill_ms);
    EXPECT_GT(m.prefill_tokens_per_s, 0);
    EXPECT_GT(m.decode_tokens_per_s, 0);
    EXPECT_GT(m.median_token_latency_ms, 0);
    EXPECT_GT(m.peak_memory_kib, 0);
}

TEST(LlmPipeline, BadInputIsAClearError) {
    LLMPipeline pipe = tiny_pipeline();
    auto expect_error = [](auto&& fn, const std::string& text) {
        try {
            fn();
            ADD_FAILURE() << "no error; expected '" << text << "'";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
        }
    };
    expect_error([&] { pipe.generate_ids({{}}, greedy(3)); }, "prompt 0 has no tokens");
    expect_error(
        [&] {
            pipe.generate(std::vector<std::string>{"a", "b"}, greedy(3),
                          [](const std::string&) { return true; });
        },
        "single prompt");
    GenerationConfig c = greedy(3);
    c.do_sample = true;
    c.temperature = 0;
    expect_error([&] { pipe.generate("a", c); }, "temperature");
    expect_error([&] { pipe.perplexity("a"); }, "at least 2 tokens");

    // A model without the contract's inputs.
    auto x = make_parameter(ElementType::i64, PartialShape::dynamic(2), "tokens");
    x->output_info(0).names = {"tokens"};
    auto m =
        std::make_shared<Model>(OutputVector{make_op("Convert", {x->output(0)},
                                                     {{"destination_type", std::string("f32")}})},
                                std::vector<std::shared_ptr<Node>>{x});
    expect_error([&] { LLMPipeline(m, tiny_llm::tokenizer()); }, "'tokens'");
}

class LlmPipelineFiles : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("kiln_llm_pipeline_" +
                std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        save_model(*tiny_llm::model(16), (dir_ / "model.xml").string());
        write("tokenizer.json", tiny_llm::tokenizer_json().dump());
        write("tokenizer_config.json",
              R"({"bos_token": {"content": "<s>", "special": true}, "eos_token": "</s>",
                  "pad_token": null, "add_bos_token": true, "model_max_length": 1e30,
                  "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}"})");
        write("generation_config.json",
              R"({"max_new_tokens": 6, "eos_token_id": [16], "temperature": 0.6, "top_p": 0.9})");
        write("config.json", R"({"model_type": "tiny", "max_position_embeddings": 16,
                                 "eos_token_id": 31, "bos_token_id": 30})");
    }
    void TearDown() override { fs::remove_all(dir_); }
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name) << text;
    }
    fs::path dir_;
};

TEST_F(LlmPipelineFiles, ReadsTheFilesBesideTheModel) {
    for (const fs::path& path : {dir_, dir_ / "model.xml"}) {
        SCOPED_TRACE(path.string());
        LLMPipeline pipe(path.string());
        const GenerationConfig& d = pipe.generation_config();
        EXPECT_EQ(d.max_new_tokens, 6u);
        EXPECT_FALSE(d.do_sample);
        EXPECT_FLOAT_EQ(d.temperature, 0.6f);
        EXPECT_FLOAT_EQ(d.top_p, 0.9f);
        EXPECT_EQ(d.eos_token_ids, (std::set<int64_t>{16, 31}));
        EXPECT_EQ(pipe.tokenizer_config().bos_token, "<s>");
        EXPECT_EQ(pipe.tokenizer_config().eos_token, "</s>");
        EXPECT_EQ(pipe.tokenizer_config().chat_template,
                  "{% for m in messages %}{{ m.content }}{% endfor %}");
        EXPECT_FALSE(pipe.tokenizer_config().model_max_length.has_value());
        // add_bos_token: "a" becomes <s> a; then 0 + 2*2 - 1 = 3 (d), 3 + 5 = 8 (i), 15, 24, 3,
        // and 16, an EOS of generation_config.json.
        auto r = pipe.generate("a");
        EXPECT_EQ(r.tokens[0], (Ids{3, 8, 15, 24, 3}));
        EXPECT_EQ(r.finish_reasons[0], "eos");
        EXPECT_EQ(r.metrics.prompt_tokens, 2u);
        // <s> h: 7 + 3 = 10, 15, 22, then 31: </s> of tokenizer_config.json and config.json.
        r = pipe.generate("h");
        EXPECT_EQ(r.tokens[0], (Ids{10, 15, 22}));
        EXPECT_EQ(r.finish_reasons[0], "eos");
        // The caller's EOS ids replace the model's.
        GenerationConfig c = pipe.generation_config();
        c.eos_token_ids = {22};
        EXPECT_EQ(pipe.generate("h", c).tokens[0], (Ids{10, 15}));
    }
}

TEST_F(LlmPipelineFiles, GenerationStopsAtTheModelsContext) {
    LLMPipeline pipe(dir_.string());
    GenerationConfig c = pipe.generation_config();
    c.max_new_tokens = 100;
    c.ignore_eos = true;
    // <s> + 10 letters at positions 0..10; tokens take positions 11..15, and one more is sampled
    // from position 15.
    const auto r = pipe.generate("abcdefghij", c);
    EXPECT_EQ(r.tokens[0].size(), 6u);
    EXPECT_EQ(r.finish_reasons[0], "length");
    // In a batch, the row that reached the context first keeps feeding its last position while
    // the other (<s> a, positions 0..1, then 2..15) goes on: 15 tokens.
    const auto batch = pipe.generate(std::vector<std::string>{"abcdefghij", "a"}, c);
    EXPECT_EQ(batch.tokens[0], r.tokens[0]);
    EXPECT_EQ(batch.tokens[1].size(), 15u);
    EXPECT_EQ(batch.tokens[1], pipe.generate("a", c).tokens[0]);
    try {
        pipe.generate("abcdefghijabcdefghij", c);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("has 21 tokens, the model's context 16"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(LlmPipelineFiles, MissingFilesAreClearErrors) {
    fs::remove(dir_ / "tokenizer.json");
    EXPECT_THROW(
        {
            try {
                LLMPipeline pipe(dir_.string());
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos);
                throw;
            }
        },
        Error);
    EXPECT_THROW(LLMPipeline((dir_ / "nope").string()), Error);
    write("generation_config.json", R"({"top_p": "high"})");
    write("tokenizer.json", tiny_llm::tokenizer_json().dump());
    try {
        LLMPipeline pipe(dir_.string());
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("\"top_p\" must be a number"), std::string::npos)
            << e.what();
    }
}

namespace {

/// Perplexity of `ids` by the formula, with the count n restarting every `window` tokens.
double expected_perplexity(const Ids& ids, int64_t window) {
    double total = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
        const int64_t n = static_cast<int64_t>(i) % window + 1;
        const int64_t target = (ids[i] + n + (n - 1)) % tiny_llm::kVocab;
        double sum = 0;
        for (int64_t v = 0; v < tiny_llm::kVocab; ++v)
            sum += std::exp(-std::abs(double(v - target)));
        total += std::log(sum) + std::abs(double(ids[i + 1] - target));
    }
    return std::exp(total / static_cast<double>(ids.size() - 1));
}

}  // namespace

TEST(LlmPipeline, PerplexityOverChunksAndWindows) {
    LLMPipeline pipe = tiny_pipeline();
    const std::string text = "the quick brown fox jumps over the lazy dog again and again.";
    const Ids ids = pipe.tokenizer().encode(text);
    for (size_t window : {size_t{1000}, size_t{16}, size_t{5}}) {
        const double expected = expected_perplexity(ids, static_cast<int64_t>(window));
        for (size_t chunk : {size_t{1}, size_t{3}, size_t{512}}) {
            SCOPED_TRACE("window " + std::to_string(window) + " chunk " + std::to_string(chunk));
            const auto r = pipe.perplexity(text, {window, chunk});
            EXPECT_EQ(r.scored_tokens, ids.size() - 1);
            EXPECT_NEAR(r.perplexity, expected, 1e-4 * expected);
        }
    }
    // The greedy continuation itself is what the model predicts best.
    Ids predicted = {0};
    const Ids cont = expected_greedy(predicted, 20);
    predicted.insert(predicted.end(), cont.begin(), cont.end());
    EXPECT_LT(pipe.perplexity_ids(predicted, {1000, 512}).perplexity,
              pipe.perplexity(text, {1000, 512}).perplexity);
}
