#pragma once
// Splitting text on a regular expression written for the Hugging Face tokenizers (Oniguruma
// syntax: \p{L}, (?i:...), look-ahead), run by ICU's regex engine.
#include <unicode/regex.h>

#include <memory>
#include <string>
#include <vector>

namespace kiln::tokenizer {

/// What happens to the matched delimiters (tokenizers' SplitDelimiterBehavior).
enum class SplitBehavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

SplitBehavior parse_split_behavior(const std::string& name);

class RegexSplitter {
public:
    /// `pattern` in the tokenizers' syntax; `literal` treats it as plain text instead.
    RegexSplitter(const std::string& pattern, bool literal);
    ~RegexSplitter();
    /// Splits `text`; with `invert` the matches are the pieces and the text between them the
    /// delimiters. Empty pieces are dropped.
    std::vector<std::string> split(const std::string& text, SplitBehavior behavior,
                                   bool invert = false) const;

private:
    std::unique_ptr<icu::RegexPattern> pattern_;
};

}  // namespace kiln::tokenizer
