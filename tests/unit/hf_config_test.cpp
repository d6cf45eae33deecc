// config.json -> LlmConfig for each architecture, on configs shaped like the published ones, and
// the errors for missing fields and bad values.
#include <gtest/gtest.h>

#include "frontends/hf/hf_config.hpp"
#include "hf_test_support.hpp"
#include "kiln/error.hpp"

using namespace kiln;
using namespace kiln::hf_test;
using kiln::hf::LlmConfig;
using kiln::hf::parse_llm_config;

namespace {

const std::string kSource = "/models/x/config.json";

// openai-community/gpt2's config.json (no n_inner, no tie_word_embeddings).
Json gpt2_config() {
    return Json::parse(R"({
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
        "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
        "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
        "resid_pdrop": 0.1, "vocab_size": 50257})");
}

// TinyLlama-1.1B-Chat's config.json.
Json tinyllama_config() {
    return Json::parse(R"({
        "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1,
        "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 2048,
        "initializer_range": 0.02, "intermediate_size": 5632, "max_position_embeddings": 2048,
        "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 22,
        "num_key_value_heads": 4, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
        "rope_scaling": null, "rope_theta": 10000.0, "tie_word_embeddings": false,
        "torch_dtype": "bfloat16", "transformers_version": "4.35.0", "use_cache": true,
        "vocab_size": 32000})");
}

// Llama-3.2-1B's config.json.
Json llama32_config() {
    return Json::parse(R"({
        "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
        "eos_token_id": [128001, 128008, 128009], "head_dim": 64, "hidden_act": "silu",
        "hidden_size": 2048, "intermediate_size": 8192, "max_position_embeddings": 131072,
        "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32,
        "num_hidden_layers": 16, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
        "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
        "vocab_size": 128256})");
}

// Mistral-7B-v0.1's config.json.
Json mistral_config() {
    return Json::parse(R"({
        "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
        "hidden_act": "silu", "hidden_size": 4096, "intermediate_size": 14336,
        "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
        "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
        "torch_dtype": "bfloat16", "vocab_size": 32000})");
}

// Qwen2-0.5B-Instruct's config.json.
Json qwen2_config() {
    return Json::parse(R"({
        "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
        "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896,
        "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
        "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
        "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
        "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
        "use_cache": true, "use_sliding_window": false, "vocab_size": 151936})");
}

LlmConfig parse(const Json& j) { return parse_llm_config(j, kSource); }

// parse() must fail with a message naming the file and holding `part`.
void expect_error(const Json& j, const std::string& part) {
    try {
        parse(j);
        ADD_FAILURE() << "no error; expected '" << part << "'";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
        EXPECT_NE(msg.find(kSource), std::string::npos) << msg;
    }
}

TEST(HfConfig, Gpt2) {
    const LlmConfig c = parse(gpt2_config());
    EXPECT_EQ(c.model_type, "gpt2");
    EXPECT_EQ(c.vocab_size, 50257);
    EXPECT_EQ(c.hidden_size, 768);
    EXPECT_EQ(c.num_layers, 12);
    EXPECT_EQ(c.num_heads, 12);
    EXPECT_EQ(c.num_kv_heads, 12);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_EQ(c.intermediate_size, 4 * 768);
    EXPECT_EQ(c.max_position_embeddings, 1024);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
    EXPECT_EQ(c.hidden_act, "gelu_new");
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_TRUE(c.attention_bias);
    EXPECT_EQ(c.rope_scaling.type, "none");
    EXPECT_FALSE(c.sliding_window);
    EXPECT_EQ(c.bos_token_id, 50256);
    EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{50256}));
    EXPECT_FALSE(c.pad_token_id);
}

TEST(HfConfig, Gpt2InnerSizeAndUnsupportedScaling) {
    Json j = gpt2_config();
    j["n_inner"] = nullptr;
    EXPECT_EQ(parse(j).intermediate_size, 3072);
    j["n_inner"] = 1000;
    EXPECT_EQ(parse(j).intermediate_size, 1000);
    j["scale_attn_by_inverse_layer_idx"] = true;
    expect_error(j, "scale_attn_by_inverse_layer_idx");
}

TEST(HfConfig, TinyLlama) {
    const LlmConfig c = parse(tinyllama_config());
    EXPECT_EQ(c.model_type, "llama");
    EXPECT_EQ(c.hidden_size, 2048);
    EXPECT_EQ(c.num_layers, 22);
    EXPECT_EQ(c.num_heads, 32);
    EXPECT_EQ(c.num_kv_heads, 4);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_EQ(c.intermediate_size, 5632);
    EXPECT_EQ(c.max_position_embeddings, 2048);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
    EXPECT_EQ(c.hidden_act, "silu");
    EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
    EXPECT_EQ(c.rope_scaling.type, "none");
    EXPECT_FALSE(c.tie_word_embeddings);
    EXPECT_FALSE(c.attention_bias);
    EXPECT_FALSE(c.sliding_window);
    EXPECT_EQ(c.bos_token_id, 1);
    EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{2}));
    EXPECT_EQ(c.torch_dtype, "bfloat16");
}

TEST(HfConfig, Llama3RopeScalingAndEosList) {
    const LlmConfig c = parse(llama32_config());
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_EQ(c.num_kv_heads, 8);
    EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
    EXPECT_EQ(c.rope_scaling.type, "llama3");
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 32.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
    EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_EQ(c.bos_token_id, 128000);
    EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
}

TEST(HfConfig, LinearAndDynamicRopeScaling) {
    Json j = tinyllama_config();
    j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};  // older spelling of rope_type
    LlmConfig c = parse(j);
    EXPECT_EQ(c.rope_scaling.type, "linear");
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 2.0);
    j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 4}};
    c = parse(j);
    EXPECT_EQ(c.rope_scaling.type, "dynamic");
    EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 4.0);
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 2048);
    j["rope_scaling"] = {{"rope_type", "default"}};
    EXPECT_EQ(parse(j).rope_scaling.type, "none");
}

TEST(HfConfig, RopeParametersOfNewerTransformers) {
    Json j = llama32_config();
    j["rope_parameters"] = j["rope_scaling"];
    j["rope_parameters"]["rope_theta"] = 250000.0;
    j.erase("rope_scaling");
    j.erase("rope_theta");
    const LlmConfig c = parse(j);
    EXPECT_DOUBLE_EQ(c.rope_theta, 250000.0);
    EXPECT_EQ(c.rope_scaling.type, "llama3");
    EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
}

TEST(HfConfig, BadRopeScaling) {
    Json j = tinyllama_config();
    j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    expect_error(j, "rope_scaling.rope_type");
    j["rope_scaling"] = {{"rope_type", "linear"}};
    expect_error(j, "rope_scaling.factor");
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", -1}};
    expect_error(j, "positive");
    j["rope_scaling"] = llama32_config()["rope_scaling"];
    j["rope_scaling"].erase("low_freq_factor");
    expect_error(j, "rope_scaling.low_freq_factor");
    j["rope_scaling"] = {{"factor", 2.0}};
    expect_error(j, "rope_type");
    j["rope_scaling"] = "linear";
    expect_error(j, "rope_scaling");
}

TEST(HfConfig, Mistral) {
    LlmConfig c = parse(mistral_config());
    EXPECT_EQ(c.model_type, "mistral");
    EXPECT_EQ(c.num_kv_heads, 8);
    EXPECT_EQ(c.head_dim, 128);
    EXPECT_EQ(c.intermediate_size, 14336);
    EXPECT_FALSE(c.attention_bias);
    EXPECT_EQ(c.sliding_window, 4096);
    Json j = mistral_config();
    j["sliding_window"] = nullptr;  // Mistral v0.2 and later
    j["head_dim"] = 96;             // Mistral-Nemo style: not hidden_size / heads
    c = parse(j);
    EXPECT_FALSE(c.sliding_window);
    EXPECT_EQ(c.head_dim, 96);
}

TEST(HfConfig, Qwen2) {
    LlmConfig c = parse(qwen2_config());
    EXPECT_EQ(c.model_type, "qwen2");
    EXPECT_EQ(c.num_heads, 14);
    EXPECT_EQ(c.num_kv_heads, 2);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_TRUE(c.attention_bias);  // always, whatever the config says
    EXPECT_TRUE(c.tie_word_embeddings);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
    EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
    EXPECT_FALSE(c.sliding_window);  // sliding_window is there, but use_sliding_window is false
    EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{151645}));

    Json j = qwen2_config();
    j.erase("use_sliding_window");  // transformers' default is false
    EXPECT_FALSE(parse(j).sliding_window);
    j["use_sliding_window"] = true;
    j["sliding_window"] = 4096;
    j["max_window_layers"] = 0;
    EXPECT_EQ(parse(j).sliding_window, 4096);
    j["max_window_layers"] = 24;  // no layer from 24 on: full attention everywhere
    EXPECT_FALSE(parse(j).sliding_window);
    j["max_window_layers"] = 12;
    expect_error(j, "max_window_layers");
}

TEST(HfConfig, LlamaIgnoresSlidingWindowAndReadsAttentionBias) {
    Json j = tinyllama_config();
    j["sliding_window"] = 128;
    j["attention_bias"] = true;
    j["pad_token_id"] = 0;
    const LlmConfig c = parse(j);
    EXPECT_FALSE(c.sliding_window);
    EXPECT_TRUE(c.attention_bias);
    EXPECT_EQ(c.pad_token_id, 0);
    j["mlp_bias"] = true;
    expect_error(j, "mlp_bias");
}

TEST(HfConfig, DefaultsWhereTransformersHasThem) {
    Json j = tinyllama_config();
    for (const char* key : {"num_key_value_heads", "rms_norm_eps", "hidden_act", "rope_theta",
                            "rope_scaling", "tie_word_embeddings", "attention_bias",
                            "bos_token_id", "eos_token_id", "torch_dtype"})
        j.erase(key);
    j["dtype"] = "float16";  // transformers 4.56+ spells torch_dtype so
    j["pad_token_id"] = -1;  // "none" in older conversions
    const LlmConfig c = parse(j);
    EXPECT_EQ(c.num_kv_heads, 32);
    EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
    EXPECT_EQ(c.hidden_act, "silu");
    EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
    EXPECT_FALSE(c.tie_word_embeddings);
    EXPECT_FALSE(c.bos_token_id);
    EXPECT_TRUE(c.eos_token_ids.empty());
    EXPECT_FALSE(c.pad_token_id);
    EXPECT_EQ(c.torch_dtype, "float16");
}

TEST(HfConfig, MissingFieldsNameFieldAndFile) {
    for (const char* key : {"vocab_size", "hidden_size", "num_hidden_layers",
                            "num_attention_heads", "intermediate_size", "max_position_embeddings",
                            "model_type"}) {
        SCOPED_TRACE(key);
        Json j = tinyllama_config();
        j.erase(key);
        expect_error(j, std::string("field '") + key + "' is missing");
    }
    for (const char* key : {"vocab_size", "n_embd", "n_layer", "n_head", "n_positions"}) {
        SCOPED_TRACE(key);
        Json j = gpt2_config();
        j.erase(key);
        expect_error(j, std::string("field '") + key + "' is missing");
    }
}

TEST(HfConfig, BadValues) {
    auto with = [](const char* key, const Json& value) {
        Json j = tinyllama_config();
        j[key] = value;
        return j;
    };
    expect_error(with("num_attention_heads", 0), "'num_attention_heads' must be at least 1");
    expect_error(with("hidden_size", -5), "'hidden_size' must be at least 1");
    expect_error(with("hidden_size", "2048"), "'hidden_size' must be an integer");
    expect_error(with("hidden_size", 2048.5), "'hidden_size' must be an integer");
    expect_error(with("hidden_size", 2050), "not a multiple of 'num_attention_heads'");
    expect_error(with("num_key_value_heads", 5), "'num_key_value_heads' (5) must divide");
    expect_error(with("rms_norm_eps", 0), "'rms_norm_eps' must be a positive number");
    expect_error(with("rope_theta", "big"), "'rope_theta' must be a number");
    expect_error(with("tie_word_embeddings", 1), "'tie_word_embeddings' must be true or false");
    expect_error(with("eos_token_id", Json::array({2, "x"})), "'eos_token_id'");
    expect_error(with("model_type", 3), "'model_type' must be a string");
    EXPECT_EQ(parse(with("hidden_size", 2048.0)).hidden_size, 2048);
    EXPECT_THROW(parse_llm_config(Json::array(), kSource), Error);
}

using HfConfigFile = TempFolderTest;

TEST_F(HfConfigFile, ReadsAndReportsBadJson) {
    write_json(dir_ / "config.json", qwen2_config());
    EXPECT_EQ(hf::read_llm_config(path("config.json")).model_type, "qwen2");
    write_bytes(dir_ / "config.json", "{\"model_type\": ");
    try {
        hf::read_llm_config(path("config.json"));
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("config.json' is not valid JSON"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(hf::read_llm_config(path("missing.json")), Error);
}

}  // namespace
