// The public Tokenizer and TextStreamer over the tokenizer pipeline.
#include "kiln/tokenizer.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "genai/tokenizer/pipeline.hpp"
#include "genai/tokenizer/utf8.hpp"
#include "kiln/error.hpp"

namespace kiln {

Tokenizer Tokenizer::from_file(const std::string& path) {
    std::filesystem::path p(path);
    if (std::filesystem::is_directory(p)) p /= "tokenizer.json";
    std::ifstream f(p, std::ios::binary);
    KILN_CHECK(f, "cannot open tokenizer '", p.string(), "'");
    std::stringstream text;
    text << f.rdbuf();
    return from_json(text.str(), p.string());
}

Tokenizer Tokenizer::from_json(const std::string& json_text, const std::string& origin) {
    tokenizer::Json j;
    try {
        j = tokenizer::Json::parse(json_text);
    } catch (const nlohmann::json::exception& e) {
        KILN_THROW(origin, ": not valid JSON: ", e.what());
    }
    Tokenizer t;
    t.impl_ = std::make_shared<const tokenizer::Pipeline>(j, origin);
    return t;
}

std::vector<int64_t> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
    return impl_->encode(text, add_special_tokens);
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
    return impl_->decode(ids, skip_special_tokens);
}

std::string Tokenizer::id_to_token(int64_t id) const {
    auto t = impl_->id_to_token(id);
    KILN_CHECK(t, "tokenizer: id ", id, " is not in the vocabulary");
    return *t;
}

std::optional<int64_t> Tokenizer::token_to_id(const std::string& token) const {
    return impl_->token_to_id(token);
}

bool Tokenizer::is_special(int64_t id) const { return impl_->is_special(id); }

int64_t Tokenizer::vocab_size() const { return impl_->vocab_size(); }

TextStreamer::TextStreamer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_(skip_special_tokens) {}

namespace {

// Text is final unless it ends inside a UTF-8 character, or in U+FFFD that a byte-fallback run
// still being written may turn into a real character.
size_t final_length(const std::string& s) {
    size_t n = tokenizer::complete_utf8_prefix(s);
    while (n >= 3 && s.compare(n - 3, 3, "\xEF\xBF\xBD") == 0) n -= 3;
    return n;
}

}  // namespace

std::string TextStreamer::put(int64_t id) {
    // Decode a window that starts a few tokens back, so decoders that treat a first token
    // specially (Metaspace, Strip) see the same first token in both decodes, and the output is
    // the difference between them.
    ids_.push_back(id);
    const std::vector<int64_t> window(ids_.begin() + static_cast<std::ptrdiff_t>(prefix_), ids_.end());
    const std::vector<int64_t> before(ids_.begin() + static_cast<std::ptrdiff_t>(prefix_),
                                      ids_.begin() + static_cast<std::ptrdiff_t>(read_));
    const std::string prev = tokenizer_->decode(before, skip_special_);
    const std::string now = tokenizer_->decode(window, skip_special_);
    // Nothing is returned until the window ends on a final character, so nothing is returned
    // twice.
    if (final_length(now) < now.size() || now.size() <= prev.size() ||
        now.compare(0, prev.size(), prev) != 0)
        return {};
    prefix_ = read_;
    read_ = ids_.size();
    return now.substr(prev.size());
}

std::string TextStreamer::end() {
    const std::vector<int64_t> window(ids_.begin() + static_cast<std::ptrdiff_t>(prefix_), ids_.end());
    const std::vector<int64_t> before(ids_.begin() + static_cast<std::ptrdiff_t>(prefix_),
                                      ids_.begin() + static_cast<std::ptrdiff_t>(read_));
    const std::string prev = tokenizer_->decode(before, skip_special_);
    const std::string now = tokenizer_->decode(window, skip_special_);
    prefix_ = read_ = ids_.size();
    if (now.size() <= prev.size() || now.compare(0, prev.size(), prev) != 0) return {};
    return now.substr(prev.size());
}

}  // namespace kiln
