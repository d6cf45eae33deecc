// Hugging Face folders: the weights of single and sharded checkpoints, and reading a folder
// through read_hf_model and Core::read_model up to the graph builder.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "frontends/hf/safetensors_weights.hpp"
#include "hf_test_support.hpp"
#include "kiln/error.hpp"
#include "kiln/hf.hpp"
#include "kiln/runtime.hpp"

using namespace kiln;
using namespace kiln::hf_test;
using kiln::hf::SafetensorsWeights;

namespace {

template <class Fn>
void expect_error(Fn&& fn, const std::vector<std::string>& parts) {
    try {
        fn();
        ADD_FAILURE() << "no error; expected one mentioning '" << parts.front() << "'";
    } catch (const Error& e) {
        const std::string msg = e.what();
        for (const auto& p : parts)
            EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    }
}

using HfWeights = TempFolderTest;

TEST_F(HfWeights, SingleFile) {
    write_bytes(dir_ / "model.safetensors",
                safetensors_bytes({st_f32("a", {2}, {1, 2}), st_bf16("b", {1}, {-3})}));
    const SafetensorsWeights w(dir_.string());
    EXPECT_EQ(w.names(), (std::vector<std::string>{"a", "b"}));
    EXPECT_TRUE(w.has("a"));
    EXPECT_FALSE(w.has("c"));
    EXPECT_EQ(w.get("a").data<float>()[1], 2.f);
    EXPECT_EQ(static_cast<float>(w.get("b").data<bfloat16>()[0]), -3.f);
    expect_error([&] { w.get("model.norm.weight"); },
                 {"no tensor 'model.norm.weight'", dir_.string()});
}

void write_two_shards(const fs::path& dir) {
    write_bytes(dir / "model-00001-of-00002.safetensors",
                safetensors_bytes({st_f32("emb", {2, 2}, {1, 2, 3, 4}), st_f16("n1", {2}, {5, 6})}));
    write_bytes(dir / "model-00002-of-00002.safetensors",
                safetensors_bytes({st_bf16("head", {2, 2}, {7, 8, 9, 10})}));
    write_json(dir / "model.safetensors.index.json",
               {{"metadata", {{"total_size", 28}}},
                {"weight_map",
                 {{"emb", "model-00001-of-00002.safetensors"},
                  {"n1", "model-00001-of-00002.safetensors"},
                  {"head", "model-00002-of-00002.safetensors"}}}});
}

TEST_F(HfWeights, Sharded) {
    write_two_shards(dir_);
    const SafetensorsWeights w(dir_.string());
    EXPECT_EQ(w.files().size(), 2u);
    EXPECT_EQ(w.names(), (std::vector<std::string>{"emb", "head", "n1"}));
    EXPECT_EQ(w.get("emb").data<float>()[3], 4.f);
    EXPECT_EQ(static_cast<float>(w.get("n1").data<float16>()[1]), 6.f);
    EXPECT_EQ(static_cast<float>(w.get("head").data<bfloat16>()[2]), 9.f);
}

TEST_F(HfWeights, SingleFileWinsOverIndex) {
    write_two_shards(dir_);
    write_bytes(dir_ / "model.safetensors", safetensors_bytes({st_f32("only", {1}, {1})}));
    EXPECT_EQ(SafetensorsWeights(dir_.string()).names(), (std::vector<std::string>{"only"}));
}

TEST_F(HfWeights, MissingShard) {
    write_two_shards(dir_);
    fs::remove(dir_ / "model-00002-of-00002.safetensors");
    expect_error([&] { SafetensorsWeights w(dir_.string()); },
                 {"model.safetensors.index.json", "shard 'model-00002-of-00002.safetensors'",
                  "'head'", "does not exist"});
}

TEST_F(HfWeights, IndexNamesATensorTheShardLacks) {
    write_two_shards(dir_);
    Json index = Json::parse(read_bytes(dir_ / "model.safetensors.index.json"));
    index["weight_map"]["lm_head.weight"] = "model-00002-of-00002.safetensors";
    write_json(dir_ / "model.safetensors.index.json", index);
    expect_error([&] { SafetensorsWeights w(dir_.string()); },
                 {"'lm_head.weight'", "model-00002-of-00002.safetensors", "does not hold it"});
}

TEST_F(HfWeights, CorruptShardNamesTheFile) {
    write_two_shards(dir_);
    write_bytes(dir_ / "model-00002-of-00002.safetensors", "garbage");
    expect_error([&] { SafetensorsWeights w(dir_.string()); },
                 {"model-00002-of-00002.safetensors", "too short"});
}

TEST_F(HfWeights, BadIndexFiles) {
    const fs::path index = dir_ / "model.safetensors.index.json";
    write_bytes(index, "{ not json");
    expect_error([&] { SafetensorsWeights w(dir_.string()); }, {"index.json", "not valid JSON"});
    write_json(index, {{"metadata", {}}});
    expect_error([&] { SafetensorsWeights w(dir_.string()); }, {"'weight_map'"});
    write_json(index, {{"weight_map", Json::object()}});
    expect_error([&] { SafetensorsWeights w(dir_.string()); }, {"'weight_map' is empty"});
    write_json(index, {{"weight_map", {{"w", 3}}}});
    expect_error([&] { SafetensorsWeights w(dir_.string()); }, {"'w'", "not a file name"});
    for (const char* escape : {"../outside.safetensors", "/etc/passwd"}) {
        write_json(index, {{"weight_map", {{"w", escape}}}});
        expect_error([&] { SafetensorsWeights w(dir_.string()); }, {"not a file inside the folder"});
    }
}

TEST_F(HfWeights, NoWeights) {
    expect_error([&] { SafetensorsWeights w(dir_.string()); },
                 {dir_.string(), "model.safetensors", "model.safetensors.index.json"});
    write_bytes(dir_ / "pytorch_model.bin", "x");
    expect_error([&] { SafetensorsWeights w(dir_.string()); }, {"safe_serialization=True"});
}

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
        expect_error(read, {"config.json", "unsupported model_type 'mamba'", "Kiln builds"});
    }
}

TEST_F(HfFolder, ErrorsNameTheFile) {
    expect_error([&] { Core().read_model(dir_.string()); }, {dir_.string(), "no config.json"});
    expect_error([&] { read_hf_model(dir_.string()); }, {dir_.string(), "no config.json"});
    write_bytes(dir_ / "config.json", "{");
    expect_error([&] { read_hf_model(dir_.string()); }, {"config.json", "not valid JSON"});
    write_json(dir_ / "config.json", {{"hidden_size", 8}});
    expect_error([&] { read_hf_model(dir_.string()); }, {"config.json", "'model_type' is missing"});
    expect_error([&] { read_hf_model(path("config.json")); }, {"is not a folder"});
}

TEST(HfSideFiles, ListsTokenizerAndConfigFiles) {
    const auto& files = hf_side_files();
    for (const char* f : {"config.json", "generation_config.json", "tokenizer.json",
                          "tokenizer_config.json", "special_tokens_map.json"})
        EXPECT_NE(std::find(files.begin(), files.end(), f), files.end()) << f;
}

}  // namespace
