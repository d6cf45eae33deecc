#pragma once
/// \file Text tokenizers read from a Hugging Face `tokenizer.json`: byte-level BPE (GPT-2,
/// Llama 3, Qwen2) and BPE with byte fallback and the metaspace (Llama 2, TinyLlama, Mistral),
/// with added and special tokens, normalizers, pre-tokenizers, post-processors and decoders as the
/// file declares them.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

namespace tokenizer {
class Pipeline;
}

class Tokenizer {
public:
    /// Reads `path`: a tokenizer.json file, or a folder holding one.
    static Tokenizer from_file(const std::string& path);
    /// Parses the text of a tokenizer.json; `origin` names it in errors.
    static Tokenizer from_json(const std::string& json_text, const std::string& origin = "tokenizer.json");

    /// Token ids of `text`. With `add_special_tokens`, the post-processor's tokens (a BOS, for
    /// Llama) are added as the file declares. Special tokens written in the text are recognized.
    std::vector<int64_t> encode(const std::string& text, bool add_special_tokens = true) const;
    /// The text of `ids`; special tokens are dropped when `skip_special_tokens`.
    std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;

    /// The token string (as in the vocabulary) of an id, and the id of a token string.
    std::string id_to_token(int64_t id) const;
    std::optional<int64_t> token_to_id(const std::string& token) const;
    bool is_special(int64_t id) const;
    int64_t vocab_size() const;

private:
    std::shared_ptr<const tokenizer::Pipeline> impl_;
    friend class TextStreamer;
};

/// Decodes ids one at a time for streaming: put() returns the text that became final, holding
/// back bytes of an incomplete UTF-8 character (and, for decoders that look at neighbouring
/// tokens, whatever the next token may still change), so the concatenation of what put() and
/// end() return equals decode() of all ids and never splits a character.
class TextStreamer {
public:
    explicit TextStreamer(const Tokenizer& tokenizer, bool skip_special_tokens = true);
    std::string put(int64_t id);
    std::string end();

private:
    const Tokenizer* tokenizer_;
    bool skip_special_;
    std::vector<int64_t> ids_;
    // ids_[prefix_, read_) were decoded into text already returned; ids past read_ are pending.
    size_t prefix_ = 0, read_ = 0;
};

}  // namespace kiln
