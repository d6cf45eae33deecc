#include "genai/llm/stop_strings.hpp"

#include <algorithm>

namespace kiln::llm {

StopStringText::StopStringText(const Tokenizer& tokenizer, std::vector<std::string> stop_strings)
    : streamer_(tokenizer, /*skip_special_tokens=*/true), stops_(std::move(stop_strings)) {
    for (const auto& s : stops_) longest_stop_ = std::max(longest_stop_, s.size());
}

bool StopStringText::append(const std::string& piece) {
    if (piece.empty() || stops_.empty()) {
        text_ += piece;
        return false;
    }
    // A new match must end inside the new piece: search from where it could begin.
    const size_t old = text_.size();
    text_ += piece;
    const size_t from = old >= longest_stop_ ? old - longest_stop_ + 1 : 0;
    size_t cut = std::string::npos;
    for (const auto& s : stops_) cut = std::min(cut, text_.find(s, from));
    if (cut == std::string::npos) return false;
    text_.resize(cut);
    streamed_ = std::min(streamed_, cut);
    stopped_ = true;
    return true;
}

bool StopStringText::put(int64_t id) {
    if (stopped_ || finished_) return stopped_;
    return append(streamer_.put(id));
}

bool StopStringText::finish() {
    if (stopped_ || finished_) return stopped_;
    finished_ = true;
    return append(streamer_.end());
}

size_t StopStringText::held_back() const {
    if (stopped_ || finished_) return 0;
    size_t hold = 0;
    for (const auto& s : stops_) {
        // The longest proper prefix of s that ends the text.
        for (size_t k = std::min(s.size() - 1, text_.size()); k > hold; --k) {
            if (text_.compare(text_.size() - k, k, s, 0, k) == 0) {
                hold = k;
                break;
            }
        }
    }
    return hold;
}

std::string StopStringText::take_ready() {
    const size_t end = text_.size() - held_back();
    if (end <= streamed_) return {};
    std::string ready = text_.substr(streamed_, end - streamed_);
    streamed_ = end;
    return ready;
}

}  // namespace kiln::llm
