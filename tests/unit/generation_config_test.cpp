// GenerationConfig and TokenizerConfig from the JSON files beside a model, validation errors,
// and stop strings matched on decoded text.
#include <gtest/gtest.h>

#include "genai/llm/stop_strings.hpp"
#include "kiln/error.hpp"
#include "kiln/llm_pipeline.hpp"
#include "tiny_llm.hpp"

using namespace kiln;

namespace {

void expect_error(const std::function<void()>& fn, const std::string& text) {
    try {
        fn();
        ADD_FAILURE() << "no error; expected '" << text << "'";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(GenerationConfig, ReadsHuggingFaceFields) {
    auto c = GenerationConfig::from_json(
        R"({"do_sample": true, "temperature": 0.7, "top_k": 20, "top_p": 0.8, "min_p": 0.05,
            "repetition_penalty": 1.1, "max_new_tokens": 50, "min_new_tokens": 2,
            "eos_token_id": [151645, 151643], "bos_token_id": 1, "max_length": 20,
            "transformers_version": "4.45", "pad_token_id": null})");
    EXPECT_TRUE(c.do_sample);
    EXPECT_FLOAT_EQ(c.temperature, 0.7f);
    EXPECT_EQ(c.top_k, 20u);
    EXPECT_FLOAT_EQ(c.top_p, 0.8f);
    EXPECT_FLOAT_EQ(c.min_p, 0.05f);
    EXPECT_FLOAT_EQ(c.repetition_penalty, 1.1f);
    EXPECT_EQ(c.max_new_tokens, 50u);
    EXPECT_EQ(c.min_new_tokens, 2u);
    EXPECT_EQ(c.eos_token_ids, (std::set<int64_t>{151643, 151645}));
    c = GenerationConfig::from_json(R"({"eos_token_id": 2, "temperature": 1})");
    EXPECT_EQ(c.eos_token_ids, (std::set<int64_t>{2}));
    EXPECT_FALSE(c.do_sample);
    EXPECT_EQ(c.max_new_tokens, GenerationConfig{}.max_new_tokens);
}

TEST(GenerationConfig, BadFilesAreClearErrors) {
    expect_error([] { GenerationConfig::from_json("{", "g.json"); }, "g.json: not valid JSON");
    expect_error([] { GenerationConfig::from_json("[1]"); }, "expected a JSON object");
    expect_error([] { GenerationConfig::from_json(R"({"top_k": -1})"); },
                 "\"top_k\" must be a non-negative integer");
    expect_error([] { GenerationConfig::from_json(R"({"do_sample": "yes"})"); },
                 "\"do_sample\" must be true or false");
    expect_error([] { GenerationConfig::from_json(R"({"eos_token_id": ["x"]})"); },
                 "\"eos_token_id\" must be a token id or a list of ids");
    expect_error([] { GenerationConfig::from_file("/nonexistent/generation_config.json"); },
                 "cannot open");
}

TEST(GenerationConfig, Validation) {
    GenerationConfig ok;
    ok.validate();
    ok.temperature = 0;  // greedy ignores it
    ok.validate();
    auto bad = [](auto change, const std::string& text) {
        GenerationConfig c;
        change(c);
        expect_error([&] { c.validate(); }, text);
    };
    bad([](auto& c) { c.do_sample = true, c.temperature = 0; }, "temperature must be > 0");
    bad([](auto& c) { c.do_sample = true, c.temperature = -1; }, "temperature must be > 0");
    bad([](auto& c) { c.top_p = 0; }, "top_p must be in (0, 1]");
    bad([](auto& c) { c.top_p = 1.5f; }, "top_p must be in (0, 1]");
    bad([](auto& c) { c.min_p = 1; }, "min_p must be in [0, 1)");
    bad([](auto& c) { c.repetition_penalty = 0; }, "repetition_penalty must be > 0");
    bad([](auto& c) { c.presence_penalty = 3; }, "presence_penalty must be in [-2, 2]");
    bad([](auto& c) { c.frequency_penalty = -2.5f; }, "frequency_penalty must be in [-2, 2]");
    bad([](auto& c) { c.max_new_tokens = 0; }, "max_new_tokens must be at least 1");
    bad([](auto& c) { c.min_new_tokens = 500; }, "min_new_tokens (500) exceeds");
    bad([](auto& c) { c.stop_strings = {""}; }, "a stop string is empty");
    bad([](auto& c) { c.eos_token_ids = {-1}; }, "eos token id -1 is negative");
}

TEST(TokenizerConfig, SpecialTokensAndChatTemplates) {
    auto t = TokenizerConfig::from_json(
        R"({"bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false},
            "eos_token": "</s>", "pad_token": null, "add_bos_token": true,
            "add_eos_token": false, "model_max_length": 2048,
            "chat_template": "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}"})");
    EXPECT_EQ(t.bos_token, "<s>");
    EXPECT_EQ(t.eos_token, "</s>");
    EXPECT_EQ(t.pad_token, "");
    EXPECT_EQ(t.add_bos_token, true);
    EXPECT_EQ(t.add_eos_token, false);
    EXPECT_EQ(t.model_max_length, 2048);
    EXPECT_EQ(t.chat_template, "{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}");

    t = TokenizerConfig::from_json(
        R"({"chat_template": [{"name": "tool_use", "template": "T"},
                              {"name": "default", "template": "D"}]})");
    EXPECT_EQ(t.chat_template, "D");
    EXPECT_FALSE(t.add_bos_token.has_value());
    expect_error([] { TokenizerConfig::from_json(R"({"eos_token": 5})", "tc.json"); },
                 "tc.json: \"eos_token\" must be a token string");
}

TEST(StopStrings, MatchAcrossTokensAndHoldBackPossibleStarts) {
    const Tokenizer tok = tiny_llm::tokenizer();
    auto ids = [&](const std::string& s) { return tok.encode(s, false); };
    llm::StopStringText t(tok, {"c d", "xyz"});
    std::string streamed;
    for (int64_t id : ids("ab c")) {
        EXPECT_FALSE(t.put(id));
        streamed += t.take_ready();
    }
    EXPECT_EQ(streamed, "ab ");  // "c" may begin "c d"
    EXPECT_FALSE(t.put(ids(" ")[0]));
    streamed += t.take_ready();
    EXPECT_EQ(streamed, "ab ");
    EXPECT_TRUE(t.put(ids("d")[0]));
    EXPECT_EQ(t.text(), "ab ");
    EXPECT_TRUE(t.put(ids("e")[0]));  // later tokens are ignored
    EXPECT_EQ(t.text(), "ab ");
    streamed += t.take_ready();
    EXPECT_EQ(streamed, "ab ");

    // The earliest of several matches wins; a stop string at the very start leaves no text.
    llm::StopStringText first(tok, {"bc", "abcd"});
    for (int64_t id : ids("abcd")) first.put(id);
    EXPECT_EQ(first.text(), "a");
    llm::StopStringText start(tok, {"ab"});
    for (int64_t id : ids("ab")) start.put(id);
    EXPECT_TRUE(start.stopped());
    EXPECT_EQ(start.text(), "");

    // At the end, held-back text that did not become a stop string is released.
    llm::StopStringText end(tok, {"xyz"});
    for (int64_t id : ids("axy")) end.put(id);
    EXPECT_EQ(end.take_ready(), "a");
    EXPECT_FALSE(end.finish());
    EXPECT_EQ(end.take_ready(), "xy");
}
