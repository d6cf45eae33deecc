// Qwen2 (model_type "qwen2"): the Llama graph with biases on q_proj / k_proj / v_proj.
#include "frontends/hf/builders/builders.hpp"

namespace kiln::hf {

std::shared_ptr<Model> build_qwen2(const LlmConfig& config, const WeightSource& weights) {
    // Qwen2 checkpoints carry a sliding_window that only applies with use_sliding_window (off in
    // the released models, and not part of LlmConfig): attention stays full.
    LlmConfig full = config;
    full.sliding_window.reset();
    return build_llama_family(full, weights, {/*qkv_bias=*/true, /*o_bias=*/false});
}

}  // namespace kiln::hf
