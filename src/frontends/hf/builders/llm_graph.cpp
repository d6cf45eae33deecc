#include "frontends/hf/builders/llm_graph.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kiln/error.hpp"
#include "kiln/float16.hpp"
#include "kiln/model.hpp"

namespace kiln::hf {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Always 1-D (Tensor::from_vector makes a single value a scalar).
Output i64s(std::vector<int64_t> v) {
    const Shape shape{static_cast<int64_t>(v.size())};
    return make_constant(Tensor::from_vector(v, shape))->output(0);
}
Output i64_scalar(int64_t v) { return make_constant(Tensor::scalar(v))->output(0); }
Output f32_scalar(float v) { return make_constant(Tensor::scalar(v))->output(0); }
Output op(const std::string& type, OutputVector inputs, Attributes attrs = {}) {
    return make_op(type, std::move(inputs), std::move(attrs));
}

// Names the node of `o` (profiles and errors then say which layer), returns `o`.
Output named(Output o, const std::string& name) {
    o.node->set_name(name);
    return o;
}

// "model.layers.0.mlp.up_proj" from the constant "model.layers.0.mlp.up_proj.weight".
std::string layer_name(const Output& weight) {
    std::string n = weight.node->name();
    const std::string suffix = ".weight";
    if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
        n.resize(n.size() - suffix.size());
    return n;
}

template <class T>
Tensor widen(const Tensor& t) {
    Tensor out(ElementType::f32, t.shape());
    const T* src = t.data<T>();
    float* dst = out.data<float>();
    for (int64_t i = 0; i < t.size(); ++i) dst[i] = static_cast<float>(src[i]);
    return out;
}

std::shared_ptr<Node> named_input(const char* name) {
    auto p = make_parameter(ElementType::i64, PartialShape({Dimension(), Dimension()}), name);
    p->output_info(0).names = {name};
    return p;
}

}  // namespace

std::vector<float> rope_inv_freq(const LlmConfig& config, int64_t dim) {
    const RopeScaling& rs = config.rope_scaling;
    std::vector<float> inv(static_cast<size_t>(dim / 2));
    for (int64_t i = 0; i < dim / 2; ++i) {
        // As Hugging Face computes it: in float32, from the exponent 2i/dim.
        const float e = static_cast<float>(2 * i) / static_cast<float>(dim);
        inv[i] = 1.0f / std::pow(static_cast<float>(config.rope_theta), e);
    }
    if (rs.type == "linear") {
        for (float& f : inv) f = static_cast<float>(f / rs.factor);
    } else if (rs.type == "llama3") {
        // Long wavelengths are slowed down by `factor`, short ones kept, the band between
        // interpolated (Hugging Face's _compute_llama3_parameters).
        const double old_len = static_cast<double>(rs.original_max_position_embeddings);
        const double low_wavelen = old_len / rs.low_freq_factor;
        const double high_wavelen = old_len / rs.high_freq_factor;
        for (float& f : inv) {
            const double wavelen = 2 * kPi / f;
            if (wavelen > low_wavelen) {
                f = static_cast<float>(f / rs.factor);
            } else if (wavelen >= high_wavelen) {
                const double smooth = (old_len / wavelen - rs.low_freq_factor) /
                                      (rs.high_freq_factor - rs.low_freq_factor);
                f = static_cast<float>((1 - smooth) * f / rs.factor + smooth * f);
            }
        }
    } else if (rs.type != "none" && rs.type != "default" && rs.type != "dynamic") {
        KILN_THROW("[hf ", config.model_type, "] rope_scaling type '", rs.type,
                   "' is not supported (none, linear, dynamic, llama3)");
    }
    return inv;
}

LlmGraph::LlmGraph(const LlmConfig& config, const WeightSource& weights)
    : config_(config), weights_(weights) {
    KILN_CHECK(config.num_heads > 0 && config.num_kv_heads > 0 && config.head_dim > 0 &&
                   config.num_heads % config.num_kv_heads == 0,
               context(), "num_attention_heads ", config.num_heads,
               " must be a positive multiple of ", "num_key_value_heads ", config.num_kv_heads,
               " (head_dim ", config.head_dim, ")");
    input_ids_node_ = named_input("input_ids");
    attention_mask_node_ = named_input("attention_mask");
    position_ids_node_ = named_input("position_ids");
    input_ids_ = input_ids_node_->output(0);
    attention_mask_ = attention_mask_node_->output(0);
    position_ids_ = position_ids_node_->output(0);
    batch_ = op("Gather", {op("ShapeOf", {input_ids_}), i64s({0}), i64_scalar(0)});
}

std::string LlmGraph::context() const { return str_cat("[hf ", config_.model_type, "] "); }

Tensor LlmGraph::tensor(const std::string& name, const Shape& shape) const {
    const Tensor t = weights_.get(name);
    KILN_CHECK(t.shape() == shape, context(), "tensor '", name, "' has shape ",
               to_string(t.shape()), ", config.json implies ", to_string(shape));
    switch (t.element_type()) {
        case ElementType::f32:
            return t;
        case ElementType::f16:
            return widen<float16>(t);
        case ElementType::bf16:
            return widen<bfloat16>(t);
        case ElementType::f64:
            return widen<double>(t);
        default:
            KILN_THROW(context(), "tensor '", name, "' has element type ",
                       to_string(t.element_type()), "; expected f32, f16 or bf16");
    }
}

Output LlmGraph::weight(const std::string& name, const Shape& shape) {
    auto it = weights_by_name_.find(name);
    if (it != weights_by_name_.end()) {
        KILN_CHECK(it->second.partial_shape() == PartialShape(shape), context(), "tensor '", name,
                   "' is used with shapes ", to_string(it->second.partial_shape()), " and ",
                   to_string(shape));
        return it->second;
    }
    return weights_by_name_[name] = make_constant(tensor(name, shape), name)->output(0);
}

Output LlmGraph::constant(const Tensor& value, const std::string& name) {
    return make_constant(value, name)->output(0);
}

Output LlmGraph::linear(const Output& x, const std::string& prefix, int64_t out, int64_t in,
                        bool bias) {
    const Output w = weight(prefix + ".weight", {out, in});
    return linear(x, w, bias ? weight(prefix + ".bias", {out}) : Output{});
}

Output LlmGraph::linear(const Output& x, const Output& w, const Output& b) {
    // The fused FullyConnected takes the name of the bias Add: the layer's own name goes there.
    const std::string name = layer_name(w);
    const Output y = named(op("MatMul", {x, w}, {{"transpose_a", false}, {"transpose_b", true}}),
                           b.node ? name + "/matmul" : name);
    return b.node ? named(op("Add", {y, b}), name) : y;
}

OutputVector LlmGraph::stacked_linear(const Output& x, const std::vector<std::string>& prefixes,
                                      const std::vector<int64_t>& outs, int64_t in, bool bias,
                                      const std::string& name) {
    int64_t total = 0;
    for (int64_t o : outs) total += o;
    Tensor w(ElementType::f32, Shape{total, in});
    Tensor b(ElementType::f32, Shape{total});
    int64_t row = 0;
    for (size_t i = 0; i < prefixes.size(); ++i) {
        const Tensor part = tensor(prefixes[i] + ".weight", {outs[i], in});
        std::copy_n(part.data<float>(), part.size(), w.data<float>() + row * in);
        if (bias) {
            const Tensor pb = tensor(prefixes[i] + ".bias", {outs[i]});
            std::copy_n(pb.data<float>(), pb.size(), b.data<float>() + row);
        }
        row += outs[i];
    }
    const Output y = linear(x, constant(w, name + ".weight"),
                            bias ? constant(b, name + ".bias") : Output{});
    return make_node("VariadicSplit", {y, i64_scalar(-1), i64s(outs)})->outputs();
}

Output LlmGraph::rms_norm(const Output& x, const std::string& weight_name) {
    const Output w = weight(weight_name, {config_.hidden_size});
    const Output mean =
        op("ReduceMean", {op("Multiply", {x, x}), i64s({-1})}, {{"keep_dims", true}});
    const Output rms =
        op("Sqrt", {op("Add", {mean, f32_scalar(static_cast<float>(config_.norm_eps))})});
    return named(op("Multiply", {op("Divide", {x, rms}), w}), layer_name(w));
}

Output LlmGraph::layer_norm(const Output& x, const std::string& prefix) {
    const Output w = weight(prefix + ".weight", {config_.hidden_size});
    const Output b = weight(prefix + ".bias", {config_.hidden_size});
    const Output y = op("MVN", {x, i64s({-1})},
                        {{"normalize_variance", true},
                         {"eps", config_.norm_eps},
                         {"eps_mode", std::string("inside_sqrt")}});
    return named(op("Add", {op("Multiply", {y, w}), b}), prefix);
}

Output LlmGraph::embedding(const Output& table, const Output& ids) {
    return op("Gather", {table, ids, i64_scalar(0)}, {{"batch_dims", int64_t{0}}});
}

Output LlmGraph::scalar_dim(const Output& shape, int64_t axis) {
    return op("Gather", {shape, i64_scalar(axis), i64_scalar(0)});
}

Output LlmGraph::heads_first(const Output& x, int64_t heads) {
    const Output split =
        op("Reshape", {x, i64s({0, 0, heads, config_.head_dim})}, {{"special_zero", true}});
    return op("Transpose", {split, i64s({0, 2, 1, 3})});
}

void LlmGraph::make_rotary_tables() {
    const int64_t dim = config_.head_dim;
    KILN_CHECK(dim % 2 == 0, context(), "rotary embedding needs an even head_dim, got ", dim);
    const Output pos =
        op("Unsqueeze",
           {op("Convert", {position_ids_}, {{"destination_type", std::string("f32")}}), i64s({2})});
    Output inv_freq = constant(Tensor::from_vector(rope_inv_freq(config_, dim)), "rope.inv_freq");
    const RopeScaling& rs = config_.rope_scaling;
    if (rs.type == "dynamic") {
        // Dynamic NTK: past the original context, the base grows with the longest position
        // (Hugging Face's _compute_dynamic_ntk_parameters); below it, the factor is one.
        const double orig = static_cast<double>(rs.original_max_position_embeddings > 0
                                                    ? rs.original_max_position_embeddings
                                                    : config_.max_position_embeddings);
        const Output longest =
            op("Convert",
               {op("Add", {op("ReduceMax", {position_ids_, i64s({0, 1})}, {{"keep_dims", false}}),
                           i64_scalar(1)})},
               {{"destination_type", std::string("f32")}});
        const Output len = op("Maximum", {longest, f32_scalar(static_cast<float>(orig))});
        const Output growth =
            op("Subtract", {op("Multiply", {len, f32_scalar(static_cast<float>(rs.factor / orig))}),
                            f32_scalar(static_cast<float>(rs.factor - 1))});
        const Output base =
            op("Multiply", {f32_scalar(static_cast<float>(config_.rope_theta)),
                            op("Power", {growth, f32_scalar(static_cast<float>(dim) /
                                                            static_cast<float>(dim - 2))})});
        std::vector<float> neg_exp(static_cast<size_t>(dim / 2));
        for (int64_t i = 0; i < dim / 2; ++i)
            neg_exp[i] = -static_cast<float>(2 * i) / static_cast<float>(dim);
        inv_freq = op("Power", {base, constant(Tensor::from_vector(neg_exp), "rope.exponents")});
    }
    const Output freqs = op("Multiply", {pos, inv_freq});  // [B, L, E/2]
    const Output angles = op("Concat", {freqs, freqs}, {{"axis", int64_t{-1}}});
    cos_ = op("Unsqueeze", {op("Cos", {angles}), i64s({1})});
    sin_ = op("Unsqueeze", {op("Sin", {angles}), i64s({1})});
}

Output LlmGraph::rotary(const Output& x) {
    if (!cos_.node) make_rotary_tables();
    // x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1] (Hugging Face's layout).
    const int64_t half = config_.head_dim / 2;
    auto split = make_node("VariadicSplit", {x, i64_scalar(-1), i64s({half, half})});
    const Output rotated = op("Concat", {op("Negative", {split->output(1)}), split->output(0)},
                              {{"axis", int64_t{-1}}});
    return op("Add", {op("Multiply", {x, cos_}), op("Multiply", {rotated, sin_})});
}

Output LlmGraph::attention_mask_for(int64_t groups) {
    auto it = masks_.find(groups);
    if (it != masks_.end()) return it->second;
    if (groups != 1) {
        // Query rows of one KV head are [group, position]: the mask repeats per group.
        return masks_[groups] = op("Tile", {attention_mask_for(1), i64s({1, 1, groups, 1})});
    }
    // New token t sits at cache index past + t and sees cache indices <= its own, within the
    // sliding window if any, that attention_mask does not mark as padding.
    const Output seq = scalar_dim(op("ShapeOf", {input_ids_}), 1);
    const Output total = scalar_dim(op("ShapeOf", {attention_mask_}), 1);
    const Output past = op("Subtract", {total, seq});
    const Attributes range{{"output_type", std::string("i64")}};
    const Output query =
        op("Unsqueeze", {op("Range", {past, total, i64_scalar(1)}, range), i64s({1})});  // [L, 1]
    const Output key = op("Range", {i64_scalar(0), total, i64_scalar(1)}, range);        // [S]
    Output visible = op("LessEqual", {key, query});
    if (config_.sliding_window) {
        const Output oldest = op("Subtract", {query, i64_scalar(*config_.sliding_window)});
        visible = op("LogicalAnd", {visible, op("Greater", {key, oldest})});
    }
    const Output real = op("Unsqueeze", {op("NotEqual", {attention_mask_, i64_scalar(0)}),
                                         i64s({1, 2})});  // [B, 1, 1, S]
    // A large finite negative, as Hugging Face uses, keeps rows with no visible key finite.
    return masks_[1] = op("Select", {op("LogicalAnd", {visible, real}), f32_scalar(0.f),
                                     f32_scalar(std::numeric_limits<float>::lowest())});
}

Output LlmGraph::kv_state(const std::string& id, const Output& fresh) {
    const int64_t kv = config_.num_kv_heads, e = config_.head_dim;
    const Output empty =
        op("Broadcast",
           {f32_scalar(0.f), op("Concat", {batch_, i64s({kv, 0, e})}, {{"axis", int64_t{0}}})});
    const Output past = op(
        "ReadValue", {empty},
        {{"variable_id", id},
         {"variable_type", std::string("f32")},
         {"variable_shape", partial_shape_to_ir(PartialShape({Dimension(), kv, Dimension(), e}))}});
    past.node->set_name(id);
    const Output all = op("Concat", {past, fresh}, {{"axis", int64_t{2}}});
    sinks_.push_back(make_node("Assign", {all}, {{"variable_id", id}}, {}, id + ".assign"));
    return all;
}

Output LlmGraph::attention(int64_t layer, Output q, Output k, Output v, bool rope) {
    const int64_t heads = config_.num_heads, kv = config_.num_kv_heads, e = config_.head_dim;
    const int64_t groups = heads / kv;
    q = heads_first(q, heads);
    k = heads_first(k, kv);
    v = heads_first(v, kv);
    if (rope) {
        q = rotary(q);
        k = rotary(k);
    }
    const std::string prefix = str_cat("past_key_values.", layer);
    k = kv_state(prefix + ".key", k);
    v = kv_state(prefix + ".value", v);
    // Grouped-query attention without copying the KV heads: the query heads sharing a KV head
    // become rows of one [groups * L, E] matrix per KV head.
    if (groups > 1) q = op("Reshape", {q, i64s({0, kv, -1, e})}, {{"special_zero", true}});
    const float scale = 1.0f / std::sqrt(static_cast<float>(e));
    Output y =
        named(op("ScaledDotProductAttention",
                 {q, k, v, attention_mask_for(groups), f32_scalar(scale)}, {{"causal", false}}),
              str_cat("layers.", layer, ".attention"));
    if (groups > 1) y = op("Reshape", {y, i64s({0, heads, -1, e})}, {{"special_zero", true}});
    y = op("Transpose", {y, i64s({0, 2, 1, 3})});
    return op("Reshape", {y, i64s({0, 0, heads * e})}, {{"special_zero", true}});
}

std::shared_ptr<Model> LlmGraph::finish(const Output& logits) {
    logits.node->output_info(logits.index).names = {"logits"};
    auto result = make_node("Result", {logits}, {}, {}, "logits");
    auto model =
        std::make_shared<Model>(std::vector<std::shared_ptr<Node>>{result},
                                std::vector<std::shared_ptr<Node>>{
                                    input_ids_node_, attention_mask_node_, position_ids_node_},
                                sinks_, config_.model_type);
    model->rt_info()["model_type"] = config_.model_type;
    model->validate();
    return model;
}

}  // namespace kiln::hf
