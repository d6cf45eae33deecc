// kiln info / convert on Hugging Face folders: clean one-line errors for what cannot be read.
#include "cli_support.hpp"

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
    expect_clean_error(kiln("info " + quote(dir_.string())));
}

}  // namespace
}  // namespace kiln::e2e
