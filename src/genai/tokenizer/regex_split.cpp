#include "genai/tokenizer/regex_split.hpp"

#include "kiln/error.hpp"

namespace kiln::tokenizer {

namespace {

// Oniguruma's \s and \S are Unicode White_Space; ICU's \s is a smaller set, so they are spelled
// out. Everything else the tokenizers' patterns use means the same in ICU.
std::string to_icu_syntax(const std::string& p) {
    std::string out;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == '\\' && i + 1 < p.size()) {
            const char c = p[++i];
            if (c == 's')
                out += "\\p{White_Space}";
            else if (c == 'S')
                out += "\\P{White_Space}";
            else
                out += {'\\', c};
        } else {
            out += p[i];
        }
    }
    return out;
}

std::string utf8_of(const icu::UnicodeString& u, int32_t begin, int32_t end) {
    std::string s;
    return u.tempSubStringBetween(begin, end).toUTF8String(s);
}

}  // namespace

SplitBehavior parse_split_behavior(const std::string& name) {
    if (name == "Removed") return SplitBehavior::removed;
    if (name == "Isolated") return SplitBehavior::isolated;
    if (name == "MergedWithPrevious") return SplitBehavior::merged_with_previous;
    if (name == "MergedWithNext") return SplitBehavior::merged_with_next;
    if (name == "Contiguous") return SplitBehavior::contiguous;
    KILN_THROW("tokenizer: unknown split behavior '", name, "'");
}

RegexSplitter::RegexSplitter(const std::string& pattern, bool literal) {
    UErrorCode status = U_ZERO_ERROR;
    UParseError where{};
    const icu::UnicodeString text = icu::UnicodeString::fromUTF8(literal ? pattern : to_icu_syntax(pattern));
    pattern_.reset(icu::RegexPattern::compile(text, literal ? UREGEX_LITERAL : 0, where, status));
    KILN_CHECK(U_SUCCESS(status) && pattern_, "tokenizer: cannot compile the split pattern '",
               pattern, "' (", u_errorName(status), " at offset ", where.offset, ")");
}

RegexSplitter::~RegexSplitter() = default;

std::vector<std::string> RegexSplitter::split(const std::string& text, SplitBehavior behavior,
                                              bool invert) const {
    const icu::UnicodeString u = icu::UnicodeString::fromUTF8(text);
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::RegexMatcher> m(pattern_->matcher(u, status));
    KILN_CHECK(U_SUCCESS(status), "tokenizer: regex matcher failed: ", u_errorName(status));
    // (begin, end, is_delimiter) spans covering the text in order.
    struct Span {
        int32_t begin, end;
        bool delimiter;
    };
    std::vector<Span> spans;
    int32_t last = 0;
    while (m->find(status) && U_SUCCESS(status)) {
        const int32_t b = m->start(status), e = m->end(status);
        if (b == e) continue;  // empty matches delimit nothing
        if (b > last) spans.push_back({last, b, invert});
        spans.push_back({b, e, !invert});
        last = e;
    }
    KILN_CHECK(U_SUCCESS(status), "tokenizer: regex search failed: ", u_errorName(status));
    if (last < u.length()) spans.push_back({last, u.length(), invert});

    std::vector<std::string> out;
    bool glue_next = false;  // merged_with_next: the previous delimiter waits for this piece
    for (size_t i = 0; i < spans.size(); ++i) {
        const Span& s = spans[i];
        std::string piece = utf8_of(u, s.begin, s.end);
        if (!s.delimiter) {
            if (glue_next) {
                out.back() += piece;
                glue_next = false;
            } else {
                out.push_back(std::move(piece));
            }
            continue;
        }
        switch (behavior) {
            case SplitBehavior::removed:
                break;
            case SplitBehavior::isolated:
                out.push_back(std::move(piece));
                break;
            case SplitBehavior::merged_with_previous:
                if (i > 0 && !spans[i - 1].delimiter)
                    out.back() += piece;
                else
                    out.push_back(std::move(piece));
                break;
            case SplitBehavior::merged_with_next:
                // A delimiter right after another stays alone ("a--b" -> "a", "-", "-b").
                out.push_back(std::move(piece));
                glue_next = true;
                break;
            case SplitBehavior::contiguous:
                if (i > 0 && spans[i - 1].delimiter)
                    out.back() += piece;
                else
                    out.push_back(std::move(piece));
                break;
        }
    }
    return out;
}

}  // namespace kiln::tokenizer
