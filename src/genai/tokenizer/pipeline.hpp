#pragma once
// A whole tokenizer read from tokenizer.json: added tokens, normalizer, pre-tokenizer, BPE model,
// post-processor and decoder. Immutable once built; safe to share between threads.
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "genai/tokenizer/bpe_model.hpp"
#include "genai/tokenizer/stages.hpp"

namespace kiln::tokenizer {

struct AddedToken {
    int64_t id = 0;
    std::string content;
    bool special = false;
    bool lstrip = false, rstrip = false;  // swallow whitespace on that side
};

class Pipeline {
public:
    Pipeline(const Json& j, const std::string& origin);
    std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const;
    std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const;
    std::optional<std::string> id_to_token(int64_t id) const;
    std::optional<int64_t> token_to_id(const std::string& token) const;
    bool is_special(int64_t id) const;
    int64_t vocab_size() const;

private:
    // A piece of the input: text for the model, or an added token's id.
    struct Segment {
        std::string text;
        int64_t added_id = -1;
    };
    std::vector<Segment> split_added(const std::string& text) const;
    void post_process(std::vector<int64_t>& ids) const;

    std::vector<AddedToken> added_;
    std::unordered_map<int64_t, size_t> added_by_id_;
    std::unordered_map<std::string, size_t> added_by_content_;
    std::vector<size_t> added_by_first_byte_[256];  // candidates to try at a text position
    std::unique_ptr<Normalizer> normalizer_;
    std::unique_ptr<PreTokenizer> pre_tokenizer_;
    std::unique_ptr<BpeModel> model_;
    std::unique_ptr<Decoder> decoder_;
    // The post-processor's single-sequence template: ids before and after the text's ids.
    std::vector<int64_t> prefix_ids_, suffix_ids_;
};

}  // namespace kiln::tokenizer
