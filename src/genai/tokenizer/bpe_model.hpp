#pragma once
// The BPE model of tokenizer.json: a vocabulary, ranked merges, and what to do with characters
// outside the vocabulary (byte fallback to <0xAB> tokens, or an unknown token).
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "genai/tokenizer/stages.hpp"

namespace kiln::tokenizer {

class BpeModel {
public:
    explicit BpeModel(const Json& model);
    /// Appends the ids of one pre-tokenized piece.
    void encode(const std::string& piece, std::vector<int64_t>& out) const;
    std::optional<int64_t> token_to_id(const std::string& token) const;
    /// The token string of `id`, or nothing when the vocabulary has no such id.
    const std::string* id_to_token(int64_t id) const;
    int64_t size() const { return static_cast<int64_t>(tokens_.size()); }

private:
    struct Merge {
        int32_t rank;
        int64_t id;  // the merged token
    };
    static uint64_t pair_key(int64_t a, int64_t b) {
        return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
    }
    void initial_symbols(const std::string& piece, std::vector<int64_t>& symbols) const;
    void apply_merges(std::vector<int64_t>& symbols) const;

    std::unordered_map<std::string, int64_t> vocab_;
    std::vector<std::string> tokens_;  // by id; ids missing from the vocabulary are empty
    std::unordered_map<uint64_t, Merge> merges_;
    std::optional<int64_t> unk_id_;
    bool byte_fallback_ = false, fuse_unk_ = false, ignore_merges_ = false;
    int64_t byte_ids_[256];  // <0xAB> tokens, -1 where absent

    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

}  // namespace kiln::tokenizer
