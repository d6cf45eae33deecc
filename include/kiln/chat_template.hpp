#pragma once
/// \file Chat templates: Kiln's renderer of the Jinja subset that Hugging Face models use in the
/// `chat_template` of their tokenizer_config.json (rendered the way transformers does, with
/// trim_blocks and lstrip_blocks). docs/GENAI.md lists what the subset covers.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kiln {

namespace chat_template {
struct Program;
}

struct ChatMessage {
    std::string role;
    std::string content;
};

class ChatTemplate {
public:
    /// Parses `source` once; a syntax error throws kiln::Error naming line:column and what was
    /// expected there.
    explicit ChatTemplate(std::string source);

    /// Renders `messages` as the model expects its prompt. `extra` holds further variables
    /// (bos_token, eos_token, tools, ...); `messages` and `add_generation_prompt` take precedence
    /// over keys of the same name in it. `raise_exception('msg')` in the template throws
    /// kiln::Error with `msg` as its message.
    std::string apply(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                      const nlohmann::json& extra = {}) const;

    /// Renders with `context` (an object, or null) as the template's variables.
    std::string render(const nlohmann::json& context) const;

    /// A ChatML template for models whose tokenizer_config.json has no chat_template.
    static const char* chatml_default();

private:
    std::shared_ptr<const chat_template::Program> program_;
};

}  // namespace kiln
