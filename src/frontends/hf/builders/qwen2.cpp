// Qwen2 (model_type "qwen2"): the Llama graph with biases on q_proj / k_proj / v_proj. The
// config reader keeps sliding_window only when use_sliding_window applies it to every layer.
#include "frontends/hf/builders/builders.hpp"

namespace kiln::hf {

std::shared_ptr<Model> build_qwen2(const LlmConfig& config, const WeightSource& weights) {
    return build_llama_family(config, weights, {/*qkv_bias=*/true, /*o_bias=*/false});
}

}  // namespace kiln::hf
