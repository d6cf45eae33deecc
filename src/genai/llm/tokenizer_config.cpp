// TokenizerConfig: the special tokens, BOS policy and chat template of tokenizer_config.json.
#include "genai/llm/json_fields.hpp"
#include "kiln/error.hpp"
#include "kiln/llm_pipeline.hpp"

namespace kiln {

namespace {

// "chat_template" is a string, or a list of {"name", "template"} of which "default" is the one
// used for plain chats (tool-use variants sit beside it).
std::string read_chat_template(const nlohmann::json& j, const std::string& origin) {
    auto it = j.find("chat_template");
    if (it == j.end() || it->is_null()) return {};
    if (it->is_string()) return it->get<std::string>();
    KILN_CHECK(it->is_array(), origin, ": \"chat_template\" must be a string or a list");
    std::string first;
    for (const auto& e : *it) {
        KILN_CHECK(e.is_object() && e.contains("template") && e["template"].is_string(), origin,
                   ": each \"chat_template\" entry needs a \"template\" string");
        const std::string name = e.value("name", "");
        if (name == "default") return e["template"].get<std::string>();
        if (first.empty()) first = e["template"].get<std::string>();
    }
    return first;
}

}  // namespace

TokenizerConfig TokenizerConfig::from_json(const std::string& json_text,
                                           const std::string& origin) {
    const auto j = llm::parse_json_object(json_text, origin);
    const llm::JsonFields f(j, origin);
    TokenizerConfig c;
    c.bos_token = f.get_token("bos_token");
    c.eos_token = f.get_token("eos_token");
    c.pad_token = f.get_token("pad_token");
    c.unk_token = f.get_token("unk_token");
    c.add_bos_token = f.get_bool("add_bos_token");
    c.add_eos_token = f.get_bool("add_eos_token");
    c.chat_template = read_chat_template(j, origin);
    // Tokenizers without a limit write a huge sentinel (1e30) here: keep only a sane value.
    if (auto v = j.find("model_max_length"); v != j.end() && v->is_number()) {
        const double m = v->get<double>();
        if (m >= 1 && m < 1e12) c.model_max_length = static_cast<int64_t>(m);
    }
    return c;
}

TokenizerConfig TokenizerConfig::from_file(const std::string& path) {
    return from_json(llm::read_text_file(path), path);
}

}  // namespace kiln
