// GPT-2 and DialoGPT (model_type "gpt2"): learned position embeddings, pre-norm blocks of
// LayerNorm, one fused q/k/v projection and a gelu_new MLP, all as Conv1D layers whose weights
// are stored [in, out]; the output projection is the token embedding.
#include <algorithm>
#include <cmath>

#include "frontends/hf/builders/builders.hpp"
#include "frontends/hf/builders/llm_graph.hpp"
#include "kiln/error.hpp"
#include "kiln/model.hpp"

namespace kiln::hf {
namespace {

Output f32_scalar(float v) { return make_constant(Tensor::scalar(v))->output(0); }

// The transpose of a [rows, cols] matrix: a Conv1D weight [in, out] becomes the [out, in]
// layout of the contract. Blocked, so that GPT-2-sized matrices are not read with a stride of a
// whole row per element.
Tensor transposed(const Tensor& t) {
    constexpr int64_t kBlock = 32;
    const int64_t rows = t.shape()[0], cols = t.shape()[1];
    Tensor out(ElementType::f32, {cols, rows});
    const float* src = t.data<float>();
    float* dst = out.data<float>();
    for (int64_t i0 = 0; i0 < rows; i0 += kBlock)
        for (int64_t o0 = 0; o0 < cols; o0 += kBlock)
            for (int64_t i = i0; i < std::min(i0 + kBlock, rows); ++i)
                for (int64_t o = o0; o < std::min(o0 + kBlock, cols); ++o)
                    dst[o * rows + i] = src[i * cols + o];
    return out;
}

// Hugging Face's activations by name, in the forms GeluFusion recognizes.
Output gelu(const Output& x, const std::string& act, const std::string& context) {
    const Output half_x = make_op("Multiply", {x, f32_scalar(0.5f)});
    if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") {
        const Output cube = make_op("Power", {x, f32_scalar(3.f)});
        const Output inner =
            make_op("Add", {x, make_op("Multiply", {cube, f32_scalar(0.044715f)})});
        const Output t = make_op(
            "Tanh",
            {make_op("Multiply", {inner, f32_scalar(static_cast<float>(std::sqrt(2.0 / M_PI)))})});
        return make_op("Multiply", {half_x, make_op("Add", {t, f32_scalar(1.f)})});
    }
    if (act == "gelu") {
        const Output e =
            make_op("Erf", {make_op("Multiply", {x, f32_scalar(static_cast<float>(M_SQRT1_2))})});
        return make_op("Multiply", {half_x, make_op("Add", {e, f32_scalar(1.f)})});
    }
    KILN_THROW(context, "activation_function '", act, "' is not supported (gelu_new, gelu)");
}

}  // namespace

std::shared_ptr<Model> build_gpt2(const LlmConfig& c, const WeightSource& w) {
    LlmGraph g(c, w);
    KILN_CHECK(c.vocab_size > 0 && c.hidden_size > 0 && c.num_layers > 0 &&
                   c.intermediate_size > 0 && c.max_position_embeddings > 0,
               g.context(), "config.json needs vocab_size, n_embd, n_layer, n_positions");
    KILN_CHECK(c.num_kv_heads == c.num_heads, g.context(), "GPT-2 has no grouped-query attention");
    const int64_t h = c.hidden_size, inner = c.intermediate_size;
    // Checkpoints saved from GPT2LMHeadModel prefix the names with "transformer.", those saved
    // from GPT2Model (the original gpt2 upload) do not.
    const std::string root = w.has("transformer.wte.weight") ? "transformer." : "";
    const Output wte = g.weight(root + "wte.weight", {c.vocab_size, h});
    const Output wpe = g.weight(root + "wpe.weight", {c.max_position_embeddings, h});
    Output x =
        make_op("Add", {g.embedding(wte, g.input_ids()), g.embedding(wpe, g.position_ids())});
    // A Conv1D layer as a linear one: its weight [in, out] transposed.
    auto linear = [&](const Output& in, const std::string& prefix, int64_t n_in, int64_t n_out) {
        return g.linear(in,
                        g.constant(transposed(g.tensor(prefix + ".weight", {n_in, n_out})),
                                   prefix + ".weight"),
                        g.weight(prefix + ".bias", {n_out}));
    };
    for (int64_t i = 0; i < c.num_layers; ++i) {
        const std::string p = str_cat(root, "h.", i, ".");
        const Output a = g.layer_norm(x, p + "ln_1");
        // One product for q, k and v, as the checkpoint stores them: a decode step then streams
        // the weights in one pass instead of three, and pays one kernel launch.
        const Output qkv = linear(a, p + "attn.c_attn", h, 3 * h);
        const auto split = make_node(
            "VariadicSplit", {qkv, make_constant(Tensor::scalar<int64_t>(-1))->output(0),
                              make_constant(Tensor::from_vector<int64_t>({h, h, h}))->output(0)});
        const Output att = g.attention(i, split->output(0), split->output(1), split->output(2),
                                       /*rope=*/false);
        x = make_op("Add", {x, linear(att, p + "attn.c_proj", h, h)});
        const Output m = g.layer_norm(x, p + "ln_2");
        const Output fc = linear(m, p + "mlp.c_fc", h, inner);
        const Output act = gelu(fc, c.hidden_act.empty() ? "gelu_new" : c.hidden_act, g.context());
        x = make_op("Add", {x, linear(act, p + "mlp.c_proj", inner, h)});
    }
    x = g.layer_norm(x, root + "ln_f");
    const Output head = c.tie_word_embeddings || !w.has("lm_head.weight")
                            ? wte
                            : g.weight("lm_head.weight", {c.vocab_size, h});
    return g.finish(g.linear(x, head, Output{}));
}

}  // namespace kiln::hf
