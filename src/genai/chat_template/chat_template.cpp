// The public ChatTemplate: parse once, render per conversation.
#include "kiln/chat_template.hpp"

#include "genai/chat_template/parser.hpp"
#include "genai/chat_template/renderer.hpp"
#include "kiln/error.hpp"

namespace kiln {

namespace {

constexpr int kMaxContextDepth = 256;

// The caller's JSON keeps keys sorted; the renderer works on insertion-ordered JSON.
chat_template::Json to_ordered(const nlohmann::json& j, int depth) {
    KILN_CHECK(depth <= kMaxContextDepth, "chat template: the context nests deeper than ",
               kMaxContextDepth, " levels");
    switch (j.type()) {
        case nlohmann::json::value_t::object: {
            chat_template::Json out = chat_template::Json::object();
            for (auto it = j.begin(); it != j.end(); ++it)
                out[it.key()] = to_ordered(it.value(), depth + 1);
            return out;
        }
        case nlohmann::json::value_t::array: {
            chat_template::Json out = chat_template::Json::array();
            for (const auto& e : j) out.push_back(to_ordered(e, depth + 1));
            return out;
        }
        case nlohmann::json::value_t::string:
            return j.get<std::string>();
        case nlohmann::json::value_t::boolean:
            return j.get<bool>();
        case nlohmann::json::value_t::number_integer:
            return j.get<int64_t>();
        case nlohmann::json::value_t::number_unsigned:
            return j.get<uint64_t>();
        case nlohmann::json::value_t::number_float:
            return j.get<double>();
        default:
            return nullptr;
    }
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source) : program_(chat_template::parse(source)) {}

std::string ChatTemplate::apply(const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, const nlohmann::json& extra) const {
    KILN_CHECK(extra.is_null() || extra.is_object(),
               "chat template: extra variables must be a JSON object, not ", extra.type_name());
    chat_template::Json context = to_ordered(extra.is_null() ? nlohmann::json::object() : extra, 0);
    // tokenizer_config.json may spell a special token as an AddedToken object; transformers
    // renders its text.
    for (auto it = context.begin(); it != context.end(); ++it) {
        const std::string& key = it.key();
        const bool token_key = key.size() > 6 && key.compare(key.size() - 6, 6, "_token") == 0;
        if (token_key && it->is_object() && it->contains("content") && (*it)["content"].is_string())
            *it = chat_template::Json((*it)["content"]);
    }
    chat_template::Json list = chat_template::Json::array();
    for (const ChatMessage& m : messages) {
        chat_template::Json message =
            chat_template::Json::object();  // role first, as Python dicts keep it
        message["role"] = m.role;
        message["content"] = m.content;
        list.push_back(std::move(message));
    }
    context["messages"] = std::move(list);
    context["add_generation_prompt"] = add_generation_prompt;
    // transformers passes these as None when the caller gives none; templates test for that.
    if (!context.contains("tools")) context["tools"] = nullptr;
    if (!context.contains("documents")) context["documents"] = nullptr;
    return chat_template::render(*program_, std::move(context));
}

std::string ChatTemplate::render(const nlohmann::json& context) const {
    KILN_CHECK(context.is_null() || context.is_object(),
               "chat template: the context must be a JSON object, not ", context.type_name());
    return chat_template::render(*program_, to_ordered(context, 0));
}

const char* ChatTemplate::chatml_default() {
    return "{% for message in messages %}"
           "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
           "'\\n' }}"
           "{% endfor %}"
           "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
}

}  // namespace kiln
