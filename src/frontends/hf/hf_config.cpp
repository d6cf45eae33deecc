// config.json -> LlmConfig. Defaults follow transformers' config classes where a field may be
// left out of a saved config (save_pretrained drops values equal to the defaults); the sizes
// that fix the weights' shapes are required.
#include "frontends/hf/hf_config.hpp"

#include <cmath>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>

namespace kiln::hf {
namespace {

using json = nlohmann::json;

// Typed access to the fields of one JSON object; errors name the field and the file.
class Fields {
public:
    Fields(const json& j, std::string source, std::string prefix = "")
        : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {}

    // The value, or null when absent or JSON null (transformers writes null for "not set").
    const json* find(const char* key) const {
        const auto it = j_.find(key);
        return it == j_.end() || it->is_null() ? nullptr : &*it;
    }
    bool has(const char* key) const { return find(key) != nullptr; }

    template <class... Args>
    [[noreturn]] void fail(const char* key, const Args&... args) const {
        KILN_THROW("'", source_, "': field '", prefix_, key, "' ", args...);
    }

    int64_t required_int(const char* key, int64_t min = 1) const {
        const json* v = find(key);
        if (!v) fail(key, "is missing");
        return to_int(key, *v, min);
    }
    std::optional<int64_t> optional_int(const char* key, int64_t min = 1) const {
        const json* v = find(key);
        return v ? std::optional<int64_t>(to_int(key, *v, min)) : std::nullopt;
    }
    int64_t int_or(const char* key, int64_t fallback, int64_t min = 1) const {
        return optional_int(key, min).value_or(fallback);
    }
    double positive_number(const char* key) const {
        const json* v = find(key);
        if (!v) fail(key, "is missing");
        return to_positive(key, *v);
    }
    double positive_or(const char* key, double fallback) const {
        const json* v = find(key);
        return v ? to_positive(key, *v) : fallback;
    }
    std::string string_or(const char* key, const std::string& fallback) const {
        const json* v = find(key);
        if (!v) return fallback;
        if (!v->is_string()) fail(key, "must be a string, got ", v->dump());
        return v->get<std::string>();
    }
    bool bool_or(const char* key, bool fallback) const {
        const json* v = find(key);
        if (!v) return fallback;
        if (!v->is_boolean()) fail(key, "must be true or false, got ", v->dump());
        return v->get<bool>();
    }
    // A token id: an integer, or absent/null. Negative ids mean "none" in older conversions.
    std::optional<int64_t> token_id(const char* key, const json& v) const {
        if (v.is_null()) return std::nullopt;
        const int64_t id = to_int(key, v, INT64_MIN);
        return id < 0 ? std::nullopt : std::optional<int64_t>(id);
    }

private:
    int64_t to_int(const char* key, const json& v, int64_t min) const {
        int64_t out = 0;
        if (v.is_number_integer()) {
            if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
                fail(key, "is out of range: ", v.dump());
            out = v.get<int64_t>();
        } else if (v.is_number_float() && std::nearbyint(v.get<double>()) == v.get<double>() &&
                   std::fabs(v.get<double>()) < 9e18) {
            out = static_cast<int64_t>(v.get<double>());  // 4096.0 from hand-edited configs
        } else {
            fail(key, "must be an integer, got ", v.dump());
        }
        if (out < min) fail(key, "must be at least ", min, ", got ", out);
        return out;
    }
    double to_positive(const char* key, const json& v) const {
        if (!v.is_number()) fail(key, "must be a number, got ", v.dump());
        const double d = v.get<double>();
        if (!(d > 0) || !std::isfinite(d)) fail(key, "must be a positive number, got ", v.dump());
        return d;
    }

    const json& j_;
    std::string source_;
    std::string prefix_;
};

int64_t head_dim_of(const Fields& f, const LlmConfig& cfg, const char* hidden_key,
                    const char* heads_key) {
    if (cfg.hidden_size % cfg.num_heads != 0)
        f.fail(hidden_key, "(", cfg.hidden_size, ") is not a multiple of '", heads_key, "' (",
               cfg.num_heads, ")");
    return cfg.hidden_size / cfg.num_heads;
}

void parse_token_ids(const Fields& f, LlmConfig& cfg) {
    if (const json* v = f.find("bos_token_id")) cfg.bos_token_id = f.token_id("bos_token_id", *v);
    if (const json* v = f.find("pad_token_id")) cfg.pad_token_id = f.token_id("pad_token_id", *v);
    if (const json* v = f.find("eos_token_id")) {
        const json list = v->is_array() ? *v : json::array({*v});
        for (const auto& id : list)
            if (auto value = f.token_id("eos_token_id", id)) cfg.eos_token_ids.push_back(*value);
    }
    cfg.torch_dtype = f.string_or("torch_dtype", f.string_or("dtype", ""));
}

void parse_gpt2(const Fields& f, LlmConfig& cfg) {
    cfg.vocab_size = f.required_int("vocab_size");
    cfg.hidden_size = f.required_int("n_embd");
    cfg.num_layers = f.required_int("n_layer");
    cfg.num_heads = f.required_int("n_head");
    cfg.num_kv_heads = cfg.num_heads;
    cfg.head_dim = head_dim_of(f, cfg, "n_embd", "n_head");
    cfg.intermediate_size = f.int_or("n_inner", 4 * cfg.hidden_size);
    cfg.max_position_embeddings = f.required_int("n_positions");
    cfg.norm_eps = f.positive_or("layer_norm_epsilon", 1e-5);
    cfg.hidden_act = f.string_or("activation_function", "gelu_new");
    cfg.tie_word_embeddings = f.bool_or("tie_word_embeddings", true);
    cfg.attention_bias = true;  // Conv1D c_attn always has a bias
    // Variants of the attention scaling that the LLM graph contract cannot express.
    if (f.bool_or("scale_attn_by_inverse_layer_idx", false))
        f.fail("scale_attn_by_inverse_layer_idx", "= true is not supported");
    if (!f.bool_or("scale_attn_weights", true))
        f.fail("scale_attn_weights", "= false is not supported");
}

RopeScaling parse_rope_scaling(const json& j, const std::string& source, const std::string& key,
                               int64_t max_positions) {
    KILN_CHECK(j.is_object(), "'", source, "': field '", key, "' must be an object or null, got ",
               j.dump());
    const Fields r(j, source, key + ".");
    RopeScaling rs;
    rs.type = r.string_or("rope_type", r.string_or("type", ""));
    if (rs.type.empty()) r.fail("rope_type", "is missing (or 'type')");
    if (rs.type == "default") return RopeScaling{};
    if (rs.type == "linear" || rs.type == "dynamic") {
        rs.factor = r.positive_number("factor");
        rs.original_max_position_embeddings =
            r.int_or("original_max_position_embeddings", rs.type == "dynamic" ? max_positions : 0);
    } else if (rs.type == "llama3") {
        rs.factor = r.positive_number("factor");
        rs.low_freq_factor = r.positive_number("low_freq_factor");
        rs.high_freq_factor = r.positive_number("high_freq_factor");
        rs.original_max_position_embeddings = r.required_int("original_max_position_embeddings");
        if (rs.high_freq_factor <= rs.low_freq_factor)
            r.fail("high_freq_factor", "(", rs.high_freq_factor,
                   ") must be greater than low_freq_factor (", rs.low_freq_factor, ")");
    } else {
        r.fail("rope_type", "'", rs.type, "' is not supported (Kiln reads linear, dynamic, llama3)");
    }
    return rs;
}

// Llama and the architectures that spell their sizes the same way (Mistral, Qwen2, ...).
void parse_llama_like(const Fields& f, const std::string& source, LlmConfig& cfg) {
    cfg.vocab_size = f.required_int("vocab_size");
    cfg.hidden_size = f.required_int("hidden_size");
    cfg.num_layers = f.required_int("num_hidden_layers");
    cfg.num_heads = f.required_int("num_attention_heads");
    cfg.num_kv_heads = f.int_or("num_key_value_heads", cfg.num_heads);
    if (cfg.num_heads % cfg.num_kv_heads != 0)
        f.fail("num_key_value_heads", "(", cfg.num_kv_heads,
               ") must divide num_attention_heads (", cfg.num_heads, ")");
    const auto head_dim = f.optional_int("head_dim");
    cfg.head_dim = head_dim ? *head_dim
                            : head_dim_of(f, cfg, "hidden_size", "num_attention_heads");
    cfg.intermediate_size = f.required_int("intermediate_size");
    cfg.max_position_embeddings = f.required_int("max_position_embeddings");
    cfg.norm_eps = f.positive_or("rms_norm_eps", 1e-6);
    cfg.hidden_act = f.string_or("hidden_act", "silu");
    cfg.tie_word_embeddings = f.bool_or("tie_word_embeddings", false);
    if (f.bool_or("mlp_bias", false)) f.fail("mlp_bias", "= true is not supported");

    // Newer transformers gather the RoPE settings in "rope_parameters".
    const json* rope = f.find("rope_parameters");
    if (rope && rope->is_object()) {
        const Fields p(*rope, source, "rope_parameters.");
        cfg.rope_theta = p.positive_or("rope_theta", f.positive_or("rope_theta", 10000.0));
        cfg.rope_scaling = parse_rope_scaling(*rope, source, "rope_parameters",
                                              cfg.max_position_embeddings);
    } else {
        cfg.rope_theta = f.positive_or("rope_theta", 10000.0);
        if (const json* rs = f.find("rope_scaling"))
            cfg.rope_scaling =
                parse_rope_scaling(*rs, source, "rope_scaling", cfg.max_position_embeddings);
    }

    // Qwen2 projects q/k/v with biases whatever the config says; Llama has a switch.
    cfg.attention_bias = cfg.model_type == "qwen2" || f.bool_or("attention_bias", false);

    // Mistral: sliding_window alone; Qwen2: only when use_sliding_window, and then only from
    // layer max_window_layers on, which one window for every layer can express only at 0.
    if (cfg.model_type == "qwen2" || f.has("use_sliding_window")) {
        if (f.bool_or("use_sliding_window", false)) {
            cfg.sliding_window = f.required_int("sliding_window");
            const int64_t from = f.int_or("max_window_layers", 0, 0);
            if (from >= cfg.num_layers) {
                cfg.sliding_window.reset();  // no layer slides
            } else if (from > 0) {
                f.fail("max_window_layers", "(", from, ") < num_hidden_layers (", cfg.num_layers,
                       "): a sliding window on some layers only is not supported");
            }
        }
    } else if (cfg.model_type != "llama") {
        cfg.sliding_window = f.optional_int("sliding_window");
    }
}

}  // namespace

std::string config_model_type(const json& config, const std::string& source) {
    KILN_CHECK(config.is_object(), "'", source, "' is not a JSON object");
    const Fields f(config, source);
    const std::string type = f.string_or("model_type", "");
    if (type.empty()) f.fail("model_type", "is missing");
    return type;
}

LlmConfig parse_llm_config(const json& config, const std::string& source) {
    LlmConfig cfg;
    cfg.model_type = config_model_type(config, source);
    const Fields f(config, source);
    if (cfg.model_type == "gpt2")
        parse_gpt2(f, cfg);
    else
        parse_llama_like(f, source, cfg);
    parse_token_ids(f, cfg);
    return cfg;
}

json read_json_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    KILN_CHECK(in, "cannot open '", path, "'");
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        KILN_THROW("'", path, "' is not valid JSON: ", e.what());
    }
}

LlmConfig read_llm_config(const std::string& path) {
    return parse_llm_config(read_json_file(path), path);
}

}  // namespace kiln::hf
