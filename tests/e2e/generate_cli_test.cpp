// kiln generate and kiln perplexity on the tiny stateful model of tests/unit/tiny_llm.hpp.
#include <cmath>

#include "../unit/tiny_llm.hpp"
#include "cli_support.hpp"
#include "kiln/ir.hpp"
#include "kiln/llm_pipeline.hpp"

namespace kiln::e2e {
namespace {

class GenerateCli : public CliTest {
protected:
    void SetUp() override {
        CliTest::SetUp();
        save_model(*tiny_llm::model(), (dir_ / "model.xml").string());
        write_text(dir_ / "tokenizer.json", tiny_llm::tokenizer_json().dump());
        write_text(dir_ / "tokenizer_config.json", R"({"eos_token": "</s>"})");
    }
    std::string model() const { return quote(dir_.string()); }
};

TEST_F(GenerateCli, StreamsGreedyTextAndReportsTimings) {
    // abc -> h o x c p (tests/unit/llm_pipeline_test.cpp works it out).
    const auto r = kiln("generate " + model() + " --prompt abc -n 5 --greedy");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "hoxcp\n");
    for (const char* s :
         {"Load:", "TTFT:", "Prefill: 3 tokens", "tokens/s", "ms/token", "Peak memory:"})
        EXPECT_NE(r.err.find(s), std::string::npos) << s << " in: " << r.err;
}

TEST_F(GenerateCli, StopStringsSeedsAndBatches) {
    auto r = kiln("generate " + model() + " -p a -n 20 --stop jq --stop zzz");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "be\n");

    const std::string sample = " -p abc -n 20 --temperature 1.5 --top-k 8 --ignore-eos";
    const auto a = kiln("generate " + model() + sample + " --seed 11");
    const auto b = kiln("generate " + model() + sample + " --seed 11");
    ASSERT_EQ(a.code, 0) << a.err;
    EXPECT_EQ(a.out, b.out);

    write_text(dir_ / "prompt.txt", "hello world");
    r = kiln("generate " + model() + " --prompt-file " + quote((dir_ / "prompt.txt").string()) +
             " -p abc -n 5 --batch-prompts");
    ASSERT_EQ(r.code, 0) << r.err;
    // --prompt texts come first, then the files.
    EXPECT_EQ(r.out.rfind("--- prompt 1 (length) ---\nhoxcp\n", 0), 0u) << r.out;
    const auto alone = kiln("generate " + model() + " -p 'hello world' -n 5");
    EXPECT_NE(r.out.find("--- prompt 2 (length) ---\n" + alone.out), std::string::npos)
        << r.out << " vs " << alone.out;
}

TEST_F(GenerateCli, ChatRendersTheModelsTemplate) {
    write_text(dir_ / "tokenizer_config.json",
               R"({"eos_token": "</s>", "chat_template":
                   "{% for m in messages %}{{ m.content }}{% if not loop.last %} {% endif %}{% endfor %}"})");
    const auto chat = kiln("generate " + model() + " -p abc -n 5 --chat --system 'be brief'");
    ASSERT_EQ(chat.code, 0) << chat.err;
    EXPECT_EQ(chat.out, kiln("generate " + model() + " -p 'be brief abc' -n 5").out);
    EXPECT_NE(chat.out, kiln("generate " + model() + " -p abc -n 5").out);
}

TEST_F(GenerateCli, BadOptionsAreCleanErrors) {
    expect_clean_error(kiln("generate " + model() + " -n 3"), "--prompt");
    expect_clean_error(kiln("generate " + model() + " -p a --top-p 1.5"),
                       "top_p must be in (0, 1]");
    expect_clean_error(kiln("generate " + model() + " -p a --temperature 0"),
                       "temperature must be > 0");
    expect_clean_error(kiln("generate " + quote((dir_ / "none").string()) + " -p a"),
                       "does not exist");
    expect_clean_error(kiln("perplexity " + model() + " -f " + quote((dir_ / "no.txt").string())),
                       "cannot open");
    const auto both = kiln("generate " + model() + " -p a --greedy --temperature 0.5");
    EXPECT_EQ(both.code, 2);  // a usage error
    EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;
}

TEST_F(GenerateCli, Perplexity) {
    const std::string text = "the quick brown fox jumps over the lazy dog.";
    write_text(dir_ / "text.txt", text);
    const auto r = kiln("perplexity " + model() + " -f " + quote((dir_ / "text.txt").string()) +
                        " --max-context 8 --chunk 3");
    ASSERT_EQ(r.code, 0) << r.err;
    LLMPipeline pipe(dir_.string());
    const auto expected = pipe.perplexity(text, {8, 3});
    char line[64];
    std::snprintf(line, sizeof line, "Perplexity: %.4f", expected.perplexity);
    EXPECT_EQ(r.out.rfind(line, 0), 0u) << r.out;
    EXPECT_NE(r.err.find("Peak memory:"), std::string::npos);
}

}  // namespace
}  // namespace kiln::e2e
