// Llama 2 / 3 and TinyLlama (model_type "llama") and Mistral ("mistral", with its sliding
// window): pre-norm blocks of RMSNorm, rotary self-attention with grouped-query KV heads and a
// SwiGLU MLP; Qwen2 reuses the graph with q / k / v biases (qwen2.cpp).
#include "frontends/hf/builders/builders.hpp"
#include "frontends/hf/builders/llm_graph.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"

namespace kiln::hf {

std::shared_ptr<Model> build_llama_family(const LlmConfig& c, const WeightSource& w,
                                          const LlamaVariant& variant) {
    LlmGraph g(c, w);
    KILN_CHECK(c.vocab_size > 0 && c.hidden_size > 0 && c.num_layers > 0 && c.intermediate_size > 0,
               g.context(), "config.json needs vocab_size, hidden_size, num_hidden_layers and ",
               "intermediate_size");
    KILN_CHECK(c.hidden_act.empty() || c.hidden_act == "silu" || c.hidden_act == "swish",
               g.context(), "hidden_act '", c.hidden_act, "' is not supported (silu)");
    const int64_t h = c.hidden_size, inner = c.intermediate_size;
    const int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
    const Output table = g.weight("model.embed_tokens.weight", {c.vocab_size, h});
    Output x = g.embedding(table, g.input_ids());
    for (int64_t i = 0; i < c.num_layers; ++i) {
        const std::string p = str_cat("model.layers.", i, ".");
        const Output a = g.rms_norm(x, p + "input_layernorm.weight");
        const OutputVector qkv = g.stacked_linear(
            a, {p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"},
            {q_out, kv_out, kv_out}, h, variant.qkv_bias, p + "self_attn.qkv_proj");
        const Output att = g.attention(i, qkv[0], qkv[1], qkv[2], /*rope=*/true);
        x = make_op("Add", {x, g.linear(att, p + "self_attn.o_proj", h, q_out, variant.o_bias)});
        const Output m = g.rms_norm(x, p + "post_attention_layernorm.weight");
        const OutputVector gate_up =
            g.stacked_linear(m, {p + "mlp.gate_proj", p + "mlp.up_proj"}, {inner, inner}, h,
                             false, p + "mlp.gate_up_proj");
        const Output act = make_op("Multiply", {make_op("Swish", {gate_up[0]}), gate_up[1]});
        x = make_op("Add", {x, g.linear(act, p + "mlp.down_proj", h, inner, false)});
    }
    x = g.rms_norm(x, "model.norm.weight");
    const Output head =
        c.tie_word_embeddings ? table : g.weight("lm_head.weight", {c.vocab_size, h});
    return g.finish(g.linear(x, head, Output{}));
}

std::shared_ptr<Model> build_llama(const LlmConfig& config, const WeightSource& weights) {
    // Llama's attention_bias puts a bias on all four projections.
    return build_llama_family(config, weights, {config.attention_bias, config.attention_bias});
}

}  // namespace kiln::hf
