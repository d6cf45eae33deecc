// Reading a Hugging Face folder through read_hf_model and Core::read_model: the checks made
// before the graph builder runs, and tiny random Llama folders built and run end to end (their
// parity with PyTorch is tests/hf/hf_folder_parity_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "hf_test_support.hpp"
#include "kiln/error.hpp"
#include "kiln/hf.hpp"
#include "kiln/ir.hpp"
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

// Logits of one prefill of `ids` through the compiled folder or IR at `path`.
Tensor prefill_logits(const CompiledModel& compiled, const std::vector<int64_t>& ids) {
    const int64_t n = static_cast<int64_t>(ids.size());
    std::vector<int64_t> positions;
    for (int64_t i = 0; i < n; ++i) positions.push_back(i);
    InferRequest req = compiled.create_infer_request();
    req.set_tensor("input_ids", Tensor::from_vector(ids, {1, n}));
    req.set_tensor("attention_mask",
                   Tensor::from_vector(std::vector<int64_t>(ids.size(), 1), {1, n}));
    req.set_tensor("position_ids", Tensor::from_vector(positions, {1, n}));
    req.infer();
    return req.get_tensor("logits").clone();
}

const std::vector<int64_t> kPrompt = {1, 17, 4, 33, 9, 0, 39};

float max_abs_diff(const Tensor& a, const Tensor& b) {
    EXPECT_EQ(a.shape(), b.shape());
    float d = 0;
    for (int64_t i = 0; i < std::min(a.size(), b.size()); ++i)
        d = std::max(d, std::fabs(a.data<float>()[i] - b.data<float>()[i]));
    return d;
}

TEST_F(HfFolder, TinyLlamaThroughCore) {
    write_tiny_llama(dir_);
    const std::shared_ptr<Model> model = Core().read_model(dir_.string());
    EXPECT_EQ(model->rt_info().at("model_type"), "llama");
    for (const char* in : {"input_ids", "attention_mask", "position_ids"})
        EXPECT_NO_THROW(model->input(in)) << in;
    const Tensor logits = prefill_logits(Core().compile_model(model), kPrompt);
    ASSERT_EQ(logits.shape(), (Shape{1, 7, 40}));
    for (int64_t i = 0; i < logits.size(); ++i) ASSERT_TRUE(std::isfinite(logits.data<float>()[i]));
}

// f32 weights become constants that view the mapped file; 16-bit ones are widened copies, so
// their files are unmapped once the model is built.
TEST_F(HfFolder, F32WeightsStayMappedInTheModel) {
    write_tiny_llama(dir_ / "f32");
    write_tiny_llama(dir_ / "bf16", /*bf16=*/true, /*shards=*/2);
    const std::string f32_file = (dir_ / "f32" / "model.safetensors").string();
    std::shared_ptr<Model> a = Core().read_model(path("f32"));
    const std::shared_ptr<Model> b = Core().read_model(path("bf16"));
    EXPECT_TRUE(is_mapped(f32_file));
    EXPECT_FALSE(is_mapped((dir_ / "bf16" / "model-00001-of-00002.safetensors").string()));
    a.reset();
    EXPECT_FALSE(is_mapped(f32_file));
}

TEST_F(HfFolder, Bf16ShardsGiveTheLogitsOfF32) {
    write_tiny_llama(dir_ / "f32");
    write_tiny_llama(dir_ / "bf16", /*bf16=*/true, /*shards=*/3);
    const Core core;
    const Tensor a = prefill_logits(core.compile_model(core.read_model(path("f32"))), kPrompt);
    const Tensor b = prefill_logits(core.compile_model(core.read_model(path("bf16"))), kPrompt);
    EXPECT_LE(max_abs_diff(a, b), 1e-6f);
}

TEST_F(HfFolder, CompiledFolderIsCachedByItsFiles) {
    write_tiny_llama(dir_ / "m");
    const Core core;
    const AnyMap props = {{"CACHE_DIR", path("cache")}};
    const CompiledModel first = core.compile_model(path("m"), "CPU", props);
    const CompiledModel second = core.compile_model(path("m"), "CPU", props);
    EXPECT_EQ(first.get_property("LOADED_FROM_CACHE"), "NO");
    EXPECT_EQ(second.get_property("LOADED_FROM_CACHE"), "YES");
    EXPECT_LE(max_abs_diff(prefill_logits(first, kPrompt), prefill_logits(second, kPrompt)), 0.f);
    Json config = tiny_llama_config();
    config["rms_norm_eps"] = 1e-6;  // another model: another entry
    write_json(dir_ / "m" / "config.json", config);
    EXPECT_EQ(core.compile_model(path("m"), "CPU", props).get_property("LOADED_FROM_CACHE"), "NO");
}

// A converted folder (the IR beside the copied config.json) reads as its IR, as LLMPipeline does.
TEST_F(HfFolder, FolderWithAnIrReadsTheIr) {
    write_json(dir_ / "config.json", tiny_llama_config());  // no weights: not readable as HF
    write_tiny_llama(dir_ / "hf");
    const Core core;
    save_model(*core.read_model(path("hf")), path("model.xml"));
    const std::shared_ptr<Model> m = core.read_model(dir_.string());
    EXPECT_EQ(m->rt_info().at("model_type"), "llama");
    EXPECT_LE(
        max_abs_diff(prefill_logits(core.compile_model(m), kPrompt),
                     prefill_logits(core.compile_model(core.read_model(path("hf"))), kPrompt)),
        1e-6f);
    const AnyMap props = {{"CACHE_DIR", path("cache")}};
    EXPECT_EQ(core.compile_model(dir_.string(), "CPU", props).get_property("LOADED_FROM_CACHE"),
              "NO");
    EXPECT_EQ(core.compile_model(dir_.string(), "CPU", props).get_property("LOADED_FROM_CACHE"),
              "YES");
}

TEST_F(HfFolder, BuilderErrorsReachTheCaller) {
    auto weights = tiny_llama_weights();
    weights.erase("lm_head.weight");
    std::vector<StTensor> tensors;
    for (const auto& [name, v] : weights) tensors.push_back(st_f32(name, v.first, v.second));
    write_json(dir_ / "config.json", tiny_llama_config());
    write_bytes(dir_ / "model.safetensors", safetensors_bytes(tensors));
    expect_kiln_error([&] { Core().read_model(dir_.string()); }, {"lm_head.weight"});
}

TEST(HfSideFiles, ListsTokenizerAndConfigFiles) {
    const auto& files = hf_side_files();
    for (const char* f : {"config.json", "generation_config.json", "tokenizer.json",
                          "tokenizer_config.json", "special_tokens_map.json"})
        EXPECT_NE(std::find(files.begin(), files.end(), f), files.end()) << f;
}

}  // namespace
