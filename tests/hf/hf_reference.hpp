#pragma once
// The folders tests/hf/make_reference.py writes: the model (config.json and its weights from the
// npy/ sidecar, one .npy per checkpoint tensor) and the PyTorch reference outputs.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "frontends/hf/llm_config.hpp"
#include "kiln/error.hpp"
#include "kiln/npy.hpp"
#include "kiln/runtime.hpp"

namespace kiln::hf::test {

/// Properties for comparisons with PyTorch at f32 tolerance: the KV cache in f32 too (the CPU
/// default, f16, rounds every cached key and value).
inline const AnyMap kExactKvCache = {{"KV_CACHE_PRECISION", "f32"}};

inline std::string reference_root() {
    if (const char* env = std::getenv("KILN_HF_REFERENCE")) return env;
    return KILN_HF_REFERENCE_DIR;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    KILN_CHECK(in, "cannot open ", path.string());
    return nlohmann::json::parse(in);
}

/// Checkpoint tensors from <folder>/npy/<name>.npy.
class NpyWeights : public WeightSource {
public:
    explicit NpyWeights(std::filesystem::path folder) : dir_(std::move(folder) / "npy") {}
    bool has(const std::string& name) const override {
        return std::filesystem::exists(dir_ / (name + ".npy"));
    }
    Tensor get(const std::string& name) const override {
        KILN_CHECK(has(name), "tensor '", name, "' is not in ", dir_.string());
        return read_npy((dir_ / (name + ".npy")).string());
    }
    std::vector<std::string> names() const override {
        std::vector<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(dir_))
            out.push_back(e.path().stem().string());
        return out;
    }

private:
    std::filesystem::path dir_;
};

/// The config.json fields the builders read, with GPT-2's names mapped.
inline LlmConfig read_config(const std::filesystem::path& folder) {
    const nlohmann::json j = read_json(folder / "config.json");
    auto num = [&](const char* a, const char* b, int64_t fallback) -> int64_t {
        if (j.contains(a) && !j[a].is_null()) return j[a].get<int64_t>();
        if (b && j.contains(b) && !j[b].is_null()) return j[b].get<int64_t>();
        return fallback;
    };
    LlmConfig c;
    c.model_type = j.at("model_type").get<std::string>();
    c.vocab_size = num("vocab_size", nullptr, 0);
    c.hidden_size = num("hidden_size", "n_embd", 0);
    c.num_layers = num("num_hidden_layers", "n_layer", 0);
    c.num_heads = num("num_attention_heads", "n_head", 0);
    c.num_kv_heads = num("num_key_value_heads", nullptr, c.num_heads);
    c.head_dim = num("head_dim", nullptr, c.hidden_size / c.num_heads);
    c.intermediate_size = num("intermediate_size", "n_inner", 4 * c.hidden_size);
    c.max_position_embeddings = num("max_position_embeddings", "n_positions", 0);
    c.norm_eps = j.value("rms_norm_eps", j.value("layer_norm_epsilon", 1e-5));
    c.hidden_act = j.value("hidden_act", j.value("activation_function", std::string()));
    c.rope_theta = j.value("rope_theta", 10000.0);
    if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
        const auto& rs = j["rope_scaling"];
        c.rope_scaling.type = rs.value("rope_type", rs.value("type", std::string("none")));
        c.rope_scaling.factor = rs.value("factor", 1.0);
        c.rope_scaling.low_freq_factor = rs.value("low_freq_factor", 1.0);
        c.rope_scaling.high_freq_factor = rs.value("high_freq_factor", 4.0);
        c.rope_scaling.original_max_position_embeddings =
            rs.value("original_max_position_embeddings", int64_t{0});
    }
    c.tie_word_embeddings = j.value("tie_word_embeddings", c.model_type == "gpt2");
    c.attention_bias = j.value("attention_bias", c.model_type == "qwen2");
    if (j.contains("sliding_window") && !j["sliding_window"].is_null() &&
        j.value("use_sliding_window", true))
        c.sliding_window = j["sliding_window"].get<int64_t>();
    c.torch_dtype = j.value("torch_dtype", std::string("float32"));
    return c;
}

}  // namespace kiln::hf::test
