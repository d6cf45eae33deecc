#pragma once
// The architecture builders registry.cpp lists; each lives in its own file.
#include <memory>

#include "frontends/hf/llm_config.hpp"

namespace kiln::hf {

/// GPT-2 and DialoGPT: learned positions, Conv1D weights, gelu_new, tied output projection.
std::shared_ptr<Model> build_gpt2(const LlmConfig& config, const WeightSource& weights);
/// Llama 2 / 3, TinyLlama, Mistral: RMSNorm, rotary embedding, grouped-query attention, SwiGLU.
std::shared_ptr<Model> build_llama(const LlmConfig& config, const WeightSource& weights);
/// Qwen2: the Llama graph with biases on the q / k / v projections.
std::shared_ptr<Model> build_qwen2(const LlmConfig& config, const WeightSource& weights);

/// What the Llama-family graph varies by architecture.
struct LlamaVariant {
    bool qkv_bias = false;  // q_proj / k_proj / v_proj have a bias
    bool o_bias = false;    // o_proj has one
};
std::shared_ptr<Model> build_llama_family(const LlmConfig& config, const WeightSource& weights,
                                          const LlamaVariant& variant);

}  // namespace kiln::hf
