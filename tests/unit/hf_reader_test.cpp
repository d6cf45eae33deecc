// Reading a Hugging Face folder through read_hf_model and Core::read_model: the checks made
// before the graph builder runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "hf_test_support.hpp"
#include "kiln/error.hpp"
#include "kiln/hf.hpp"
#include "kiln/runtime.hpp"

using namespace kiln;
using namespace kiln::hf_test;

namespace {

using HfFolder = TempFolderTest;

TEST_F(HfFolder, DetectsFolders) {
    EXPECT_FALSE(is_hf_model_folder(dir_.string()));
    EXPECT_FALSE(is_hf_model_folder(path("missing")));
    write_json(dir_ / "config.json", {{"model_type", "llama"}});
    EXPECT_TRUE(is_hf_model_folder(dir_.string()));
    EXPECT_FALSE(is_hf_model_folder(path("config.json")));
}

TEST_F(HfFolder, UnsupportedModelTypeGivesTheRegistryError) {
    // No weights at all: the architecture is checked first.
    write_json(dir_ / "config.json", {{"model_type", "mamba"}, {"hidden_size", 8}});
    for (const auto& read : {std::function<void()>([&] { read_hf_model(dir_.string()); }),
                             std::function<void()>([&] { Core().read_model(dir_.string()); })}) {
        expect_kiln_error(read, {"config.json", "unsupported model_type 'mamba'", "Kiln builds"});
    }
}

TEST_F(HfFolder, ErrorsNameTheFile) {
    expect_kiln_error([&] { Core().read_model(dir_.string()); }, {dir_.string(), "no config.json"});
    expect_kiln_error([&] { read_hf_model(dir_.string()); }, {dir_.string(), "no config.json"});
    write_bytes(dir_ / "config.json", "{");
    expect_kiln_error([&] { read_hf_model(dir_.string()); }, {"config.json", "not valid JSON"});
    write_json(dir_ / "config.json", {{"hidden_size", 8}});
    expect_kiln_error([&] { read_hf_model(dir_.string()); },
                      {"config.json", "'model_type' is missing"});
    expect_kiln_error([&] { read_hf_model(path("config.json")); }, {"is not a folder"});
}

TEST(HfSideFiles, ListsTokenizerAndConfigFiles) {
    const auto& files = hf_side_files();
    for (const char* f : {"config.json", "generation_config.json", "tokenizer.json",
                          "tokenizer_config.json", "special_tokens_map.json"})
        EXPECT_NE(std::find(files.begin(), files.end(), f), files.end()) << f;
}

}  // namespace
