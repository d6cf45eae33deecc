#include "genai/tokenizer/bpe_model.hpp"

#include <cstdio>
#include <limits>

#include "genai/tokenizer/utf8.hpp"
#include "kiln/error.hpp"

namespace kiln::tokenizer {

namespace {

constexpr size_t kCachedPieceBytes = 64;
constexpr size_t kCacheEntries = 1 << 16;

// Both merge spellings: "a b" and ["a", "b"].
std::pair<std::string, std::string> merge_parts(const Json& m, size_t rank) {
    if (m.is_array()) {
        KILN_CHECK(m.size() == 2 && m[0].is_string() && m[1].is_string(),
                   "tokenizer: merge ", rank, " is not a pair of strings");
        return {m[0].get<std::string>(), m[1].get<std::string>()};
    }
    KILN_CHECK(m.is_string(), "tokenizer: merge ", rank, " is neither a string nor a pair");
    const std::string s = m.get<std::string>();
    const size_t space = s.find(' ');
    KILN_CHECK(space != std::string::npos && s.find(' ', space + 1) == std::string::npos,
               "tokenizer: merge ", rank, " '", s, "' is not two tokens separated by one space");
    return {s.substr(0, space), s.substr(space + 1)};
}

}  // namespace

BpeModel::BpeModel(const Json& model) {
    const std::string type = model.value("type", "BPE");
    KILN_CHECK(type == "BPE", "tokenizer: unsupported model type '", type,
               "' (Kiln reads BPE tokenizers)");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
        KILN_CHECK(!model.contains(key) || model[key].is_null() || model[key] == "",
                   "tokenizer: BPE option '", key, "' is not supported");
    const Json& vocab = model.at("vocab");
    KILN_CHECK(vocab.is_object(), "tokenizer: model.vocab must be an object of token -> id");
    for (const auto& [token, id_json] : vocab.items()) {
        KILN_CHECK(id_json.is_number_integer(), "tokenizer: the id of '", token, "' is not an integer");
        const int64_t id = id_json.get<int64_t>();
        KILN_CHECK(id >= 0 && id < (int64_t{1} << 31), "tokenizer: token '", token,
                   "' has id ", id, " out of range");
        vocab_[token] = id;
        if (static_cast<size_t>(id) >= tokens_.size()) tokens_.resize(id + 1);
        tokens_[id] = token;
    }
    const Json& merges = model.contains("merges") ? model["merges"] : Json::array();
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto [a, b] = merge_parts(merges[rank], rank);
        const auto ia = vocab_.find(a), ib = vocab_.find(b), iab = vocab_.find(a + b);
        KILN_CHECK(ia != vocab_.end() && ib != vocab_.end() && iab != vocab_.end(),
                   "tokenizer: merge ", rank, " '", a, " ", b,
                   "' uses or makes a token missing from the vocabulary");
        // The first (lowest-ranked) occurrence of a pair wins, as in the reference.
        merges_.emplace(pair_key(ia->second, ib->second),
                        Merge{static_cast<int32_t>(rank), iab->second});
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
        const auto it = vocab_.find(model["unk_token"].get<std::string>());
        KILN_CHECK(it != vocab_.end(), "tokenizer: unk_token '", model["unk_token"].get<std::string>(),
                   "' is not in the vocabulary");
        unk_id_ = it->second;
    }
    byte_fallback_ = model.value("byte_fallback", false);
    fuse_unk_ = model.value("fuse_unk", false);
    ignore_merges_ = model.value("ignore_merges", false);
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto it = vocab_.find(name);
        byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
    }
}

std::optional<int64_t> BpeModel::token_to_id(const std::string& token) const {
    const auto it = vocab_.find(token);
    if (it == vocab_.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::id_to_token(int64_t id) const {
    if (id < 0 || id >= size() || (tokens_[id].empty() && !vocab_.count(""))) return nullptr;
    return &tokens_[id];
}

void BpeModel::initial_symbols(const std::string& piece, std::vector<int64_t>& symbols) const {
    bool last_unk = false;
    for (size_t i = 0; i < piece.size();) {
        const size_t len = std::min(utf8_length(static_cast<unsigned char>(piece[i])), piece.size() - i);
        const auto it = vocab_.find(piece.substr(i, len));
        if (it != vocab_.end()) {
            symbols.push_back(it->second);
            last_unk = false;
        } else if (byte_fallback_ &&
                   [&] {
                       for (size_t k = 0; k < len; ++k)
                           if (byte_ids_[static_cast<unsigned char>(piece[i + k])] < 0) return false;
                       return true;
                   }()) {
            for (size_t k = 0; k < len; ++k)
                symbols.push_back(byte_ids_[static_cast<unsigned char>(piece[i + k])]);
            last_unk = false;
        } else {
            KILN_CHECK(unk_id_, "tokenizer: '", piece.substr(i, len),
                       "' is not in the vocabulary and the tokenizer has no unk_token");
            if (!(fuse_unk_ && last_unk)) symbols.push_back(*unk_id_);
            last_unk = true;
        }
        i += len;
    }
}

void BpeModel::apply_merges(std::vector<int64_t>& symbols) const {
    // Repeatedly merge every occurrence of the best-ranked adjacent pair, left to right.
    while (symbols.size() > 1) {
        int32_t best = std::numeric_limits<int32_t>::max();
        int64_t a = -1, b = -1, merged = -1;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            const auto it = merges_.find(pair_key(symbols[i], symbols[i + 1]));
            if (it != merges_.end() && it->second.rank < best) {
                best = it->second.rank;
                a = symbols[i], b = symbols[i + 1], merged = it->second.id;
            }
        }
        if (merged < 0) break;
        size_t w = 0;
        for (size_t i = 0; i < symbols.size(); ++i) {
            if (i + 1 < symbols.size() && symbols[i] == a && symbols[i + 1] == b) {
                symbols[w++] = merged;
                ++i;
            } else {
                symbols[w++] = symbols[i];
            }
        }
        symbols.resize(w);
    }
}

void BpeModel::encode(const std::string& piece, std::vector<int64_t>& out) const {
    if (piece.empty()) return;
    if (ignore_merges_) {
        if (const auto it = vocab_.find(piece); it != vocab_.end()) {
            out.push_back(it->second);
            return;
        }
    }
    const bool cacheable = piece.size() <= kCachedPieceBytes;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        if (const auto it = cache_.find(piece); it != cache_.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int64_t> symbols;
    initial_symbols(piece, symbols);
    apply_merges(symbols);
    out.insert(out.end(), symbols.begin(), symbols.end());
    if (cacheable) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        if (cache_.size() >= kCacheEntries) cache_.clear();
        cache_.emplace(piece, std::move(symbols));
    }
}

}  // namespace kiln::tokenizer
