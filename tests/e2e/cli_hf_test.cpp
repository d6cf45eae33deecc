// kiln info / convert on Hugging Face folders: a tiny Llama converted with its side files, and
// clean one-line errors for what cannot be read.
#include "../unit/hf_test_support.hpp"
#include "cli_support.hpp"
#include "kiln/runtime.hpp"

namespace kiln::e2e {
namespace {

using CliHf = CliTest;

TEST_F(CliHf, FolderWithoutConfig) {
    expect_clean_error(kiln("info " + quote(dir_.string())), "no config.json");
}

TEST_F(CliHf, ConvertNeedsAnOutputPath) {
    write_text(dir_ / "config.json", R"({"model_type": "llama"})");
    expect_clean_error(kiln("convert " + quote(dir_.string())), "needs -o");
}

TEST_F(CliHf, UnsupportedModelType) {
    write_text(dir_ / "config.json", R"({"model_type": "mamba"})");
    expect_clean_error(kiln("convert " + quote(dir_.string()) + " -o " + quote(dir_ / "o/m.xml")),
                       "unsupported model_type 'mamba'");
    EXPECT_FALSE(fs::exists(dir_ / "o"));
}

TEST_F(CliHf, CorruptWeightsNameTheFile) {
    write_text(dir_ / "config.json", R"({"model_type": "llama", "vocab_size": 16,
        "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
        "intermediate_size": 16, "max_position_embeddings": 32})");
    write_text(dir_ / "model.safetensors", "\x05");
    expect_clean_error(kiln("info " + quote(dir_.string())), "model.safetensors");
}

// One prefill of a few tokens; the logits.
Tensor run_prompt(const std::shared_ptr<Model>& model) {
    const std::vector<int64_t> ids = {1, 5, 9, 30};
    InferRequest req = Core().compile_model(model).create_infer_request();
    req.set_tensor("input_ids", Tensor::from_vector(ids, {1, 4}));
    req.set_tensor("attention_mask", Tensor::from_vector(std::vector<int64_t>(4, 1), {1, 4}));
    req.set_tensor("position_ids", Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 3}, {1, 4}));
    req.infer();
    return req.get_tensor("logits").clone();
}

TEST_F(CliHf, ConvertWritesTheIrAndCopiesTheSideFiles) {
    const fs::path hf = dir_ / "tiny-llama";
    hf_test::write_tiny_llama(hf, /*bf16=*/true, /*shards=*/2);
    write_text(hf / "tokenizer.json", R"({"version": "1.0"})");
    write_text(hf / "generation_config.json", R"({"eos_token_id": 2})");
    write_text(hf / "tokenizer_config.json", R"({"chat_template": "{{ messages }}"})");

    const CliResult r =
        kiln("convert " + quote(hf.string()) + " -o " + quote(dir_ / "ir/model.xml"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("(Hugging Face llama)"), std::string::npos) << r.out;
    for (const char* f : {"model.xml", "model.bin", "config.json", "tokenizer.json",
                          "generation_config.json", "tokenizer_config.json"}) {
        EXPECT_TRUE(fs::exists(dir_ / "ir" / f)) << f;
        EXPECT_NE(r.out.find((dir_ / "ir" / f).string()), std::string::npos) << f << ": " << r.out;
    }
    EXPECT_FALSE(fs::exists(dir_ / "ir" / "special_tokens_map.json"));  // not in the folder
    EXPECT_EQ(read_text(dir_ / "ir" / "tokenizer.json"), read_text(hf / "tokenizer.json"));

    const Core core;
    const std::shared_ptr<Model> ir = core.read_model((dir_ / "ir" / "model.xml").string());
    EXPECT_EQ(ir->rt_info().at("model_type"), "llama");
    const Tensor a = run_prompt(core.read_model(hf.string())), b = run_prompt(ir);
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.size(); ++i)
        ASSERT_NEAR(a.data<float>()[i], b.data<float>()[i], 1e-5f) << i;

    const CliResult info = kiln("info " + quote(hf.string()));
    ASSERT_EQ(info.code, 0) << info.err;
    EXPECT_NE(info.out.find("(Hugging Face folder)"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("model_type = llama"), std::string::npos) << info.out;
}

TEST_F(CliHf, ConvertIntoTheSourceFolderKeepsItsFiles) {
    hf_test::write_tiny_llama(dir_);
    write_text(dir_ / "tokenizer.json", "{}");
    const CliResult r =
        kiln("convert " + quote(dir_.string()) + " -o " + quote(dir_ / "model.xml"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(read_text(dir_ / "tokenizer.json"), "{}");
    EXPECT_NO_THROW(Core().read_model((dir_ / "model.xml").string()));
    // The folder now reads as its IR, which converting onto itself would overwrite.
    EXPECT_NE(kiln("info " + quote(dir_.string())).out.find("Kiln IR in a folder"),
              std::string::npos);
    expect_clean_error(kiln("convert " + quote(dir_.string()) + " -o " + quote(dir_ / "model.xml")),
                       "would overwrite");
    const CliResult again =
        kiln("convert " + quote(dir_.string()) + " -o " + quote(dir_ / "ir2/model.xml"));
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_TRUE(fs::exists(dir_ / "ir2" / "tokenizer.json"));
}

}  // namespace
}  // namespace kiln::e2e
