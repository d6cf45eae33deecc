#pragma once
// The text of one generated sequence as it grows token by token, cut at the first stop string.
// Stop strings are matched on the decoded text, so one may span several tokens; text that may
// still turn out to begin a stop string is held back from streaming until the next tokens
// decide it.
#include <cstdint>
#include <string>
#include <vector>

#include "kiln/tokenizer.hpp"

namespace kiln::llm {

class StopStringText {
public:
    StopStringText(const Tokenizer& tokenizer, std::vector<std::string> stop_strings);
    /// Adds a generated token; true when the text now contains a stop string (the text is cut
    /// before it and later tokens are ignored).
    bool put(int64_t id);
    /// Decodes what the tokenizer still holds back (end of generation); true on a stop string.
    bool finish();
    /// Text that became final since the last call: never part of a possible stop string.
    std::string take_ready();
    const std::string& text() const { return text_; }
    bool stopped() const { return stopped_; }

private:
    bool append(const std::string& piece);
    size_t held_back() const;  // bytes at the end that begin some stop string

    TextStreamer streamer_;
    std::vector<std::string> stops_;
    size_t longest_stop_ = 0;
    std::string text_;
    size_t streamed_ = 0;
    bool stopped_ = false;
    bool finished_ = false;
};

}  // namespace kiln::llm
