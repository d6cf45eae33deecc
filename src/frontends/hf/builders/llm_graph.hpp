#pragma once
// The pieces every causal-LM builder shares: the inputs of docs/GENAI.md ("The LLM graph
// contract"), checkpoint tensors as f32 constants, norms and linear layers in the forms the CPU
// fusion passes rewrite, rotary embedding, the causal + padding mask and attention over the KV
// cache held as model state.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "frontends/hf/llm_config.hpp"
#include "kiln/node.hpp"

namespace kiln::hf {

class LlmGraph {
public:
    /// Makes the three inputs; `config` and `weights` must outlive the builder.
    LlmGraph(const LlmConfig& config, const WeightSource& weights);

    const LlmConfig& config() const { return config_; }
    const WeightSource& weights() const { return weights_; }
    Output input_ids() const { return input_ids_; }
    Output position_ids() const { return position_ids_; }

    /// The checkpoint tensor `name` as f32 (converted from f16 / bf16), checked against
    /// `shape`: a kiln::Error names the tensor when it is missing or has another shape.
    Tensor tensor(const std::string& name, const Shape& shape) const;
    /// tensor() as a Const node named after the tensor; one node per name, so tied weights
    /// share it.
    Output weight(const std::string& name, const Shape& shape);
    /// A constant the builder made (a slice or transpose of a checkpoint tensor).
    Output constant(const Tensor& value, const std::string& name);

    /// x @ W^T (+ b) with W [out, in] (`prefix`.weight, `prefix`.bias when `bias`).
    Output linear(const Output& x, const std::string& prefix, int64_t out, int64_t in, bool bias);
    Output linear(const Output& x, const Output& w, const Output& b);
    /// Several linear layers reading the same x (q / k / v, gate / up) as one product with their
    /// weights stacked, split back along the last axis: a decode step then streams them in one
    /// pass and pays one kernel launch. `prefixes[i]`.weight is [outs[i], in].
    OutputVector stacked_linear(const Output& x, const std::vector<std::string>& prefixes,
                                const std::vector<int64_t>& outs, int64_t in, bool bias,
                                const std::string& name);
    /// x / sqrt(mean(x^2) + eps) * w: the RMSNorm form LayerNormFusion recognizes.
    Output rms_norm(const Output& x, const std::string& weight_name);
    /// MVN over the last axis * w + b (`prefix`.weight / .bias).
    Output layer_norm(const Output& x, const std::string& prefix);
    /// Rows of `table` [V, H] for `ids`.
    Output embedding(const Output& table, const Output& ids);

    /// Self-attention of one layer from its projections q [B, L, H*E], k and v [B, L, KV*E]:
    /// rotary embedding of q and k (when `rope`), the layer's KV state, the causal + padding
    /// mask (with the sliding window when the config has one); returns [B, L, H*E].
    Output attention(int64_t layer, Output q, Output k, Output v, bool rope);

    /// The model: `logits` as its output, the KV Assigns as sinks, rt_info model_type.
    std::shared_ptr<Model> finish(const Output& logits);

    /// "[hf <model_type>] ", the prefix of the builders' errors.
    std::string context() const;

private:
    Output scalar_dim(const Output& shape, int64_t axis);
    Output heads_first(const Output& x, int64_t heads);
    Output rotary(const Output& x);
    void make_rotary_tables();
    Output attention_mask_for(int64_t groups);
    Output kv_state(const std::string& id, const Output& fresh);

    const LlmConfig& config_;
    const WeightSource& weights_;
    std::shared_ptr<Node> input_ids_node_, attention_mask_node_, position_ids_node_;
    Output input_ids_, attention_mask_, position_ids_;
    Output batch_;                     // [1] i64
    Output cos_, sin_;                 // [B, 1, L, E]
    std::map<int64_t, Output> masks_;  // by query groups per KV head: [B, 1, groups*L, S]
    std::map<std::string, Output> weights_by_name_;
    std::vector<std::shared_ptr<Node>> sinks_;
};

/// inv_freq of rotary embedding for head size `dim` with config.json's rope_theta and
/// rope_scaling (linear and llama3 change it; dynamic is applied in the graph).
std::vector<float> rope_inv_freq(const LlmConfig& config, int64_t dim);

}  // namespace kiln::hf
