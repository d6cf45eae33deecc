#pragma once
/// \file The parts of a Hugging Face causal-LM folder that graph builders need: the parsed
/// config.json (LlmConfig) and the weights by their checkpoint names (WeightSource).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/model.hpp"
#include "kiln/tensor.hpp"

namespace kiln::hf {

/// config.json "rope_scaling"; type "none" when absent.
struct RopeScaling {
    std::string type = "none";  // none | linear | dynamic | llama3
    double factor = 1.0;
    double low_freq_factor = 1.0;   // llama3
    double high_freq_factor = 4.0;  // llama3
    int64_t original_max_position_embeddings = 0;  // llama3, dynamic
};

/// config.json, normalized across architectures (GPT-2's n_embd, n_layer, ... land in the same
/// fields as Llama's hidden_size, num_hidden_layers, ...).
struct LlmConfig {
    std::string model_type;  // "gpt2", "llama", "qwen2", "mistral"
    int64_t vocab_size = 0;
    int64_t hidden_size = 0;
    int64_t num_layers = 0;
    int64_t num_heads = 0;
    int64_t num_kv_heads = 0;  // == num_heads without grouped-query attention
    int64_t head_dim = 0;      // hidden_size / num_heads unless the config says otherwise
    int64_t intermediate_size = 0;  // GPT-2: n_inner, or 4 * hidden_size
    int64_t max_position_embeddings = 0;
    double norm_eps = 1e-5;  // rms_norm_eps or layer_norm_epsilon
    std::string hidden_act;  // "silu", "gelu_new", "gelu", ...
    double rope_theta = 10000.0;
    RopeScaling rope_scaling;
    bool tie_word_embeddings = false;
    bool attention_bias = false;  // q/k/v projections carry a bias (Qwen2: true)
    std::optional<int64_t> sliding_window;  // Mistral; absent = full attention
    std::optional<int64_t> bos_token_id;
    std::vector<int64_t> eos_token_ids;
    std::optional<int64_t> pad_token_id;
    std::string torch_dtype;  // as written: "float32", "float16", "bfloat16"
};

/// Checkpoint tensors by name ("model.layers.0.self_attn.q_proj.weight"), as stored (f32, f16 or
/// bf16); get() throws a kiln::Error naming a missing tensor and the folder.
class WeightSource {
public:
    virtual ~WeightSource() = default;
    virtual bool has(const std::string& name) const = 0;
    virtual Tensor get(const std::string& name) const = 0;
    virtual std::vector<std::string> names() const = 0;
};

/// Builds the stateful IR graph of docs/GENAI.md ("The LLM graph contract") for one
/// architecture. Weights become f32 constants.
using LlmGraphBuilder = std::function<std::shared_ptr<Model>(const LlmConfig&, const WeightSource&)>;

/// The builder registered for `model_type`; a kiln::Error listing the supported types otherwise.
const LlmGraphBuilder& llm_graph_builder(const std::string& model_type);
/// Supported model_type values, sorted.
std::vector<std::string> supported_model_types();

}  // namespace kiln::hf
