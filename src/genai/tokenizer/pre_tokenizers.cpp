// Pre-tokenizers of tokenizer.json: ByteLevel, Split, Metaspace, Digits and Sequence.
#include "genai/tokenizer/regex_split.hpp"
#include "genai/tokenizer/stages.hpp"
#include "kiln/error.hpp"

namespace kiln::tokenizer {

namespace {

// GPT-2's pre-tokenization pattern, which ByteLevel uses unless use_regex is false.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel : public PreTokenizer {
public:
    ByteLevel(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
        if (use_regex) splitter_ = std::make_unique<RegexSplitter>(kGpt2Pattern, false);
    }
    void split(std::vector<std::string>& pieces) const override {
        if (add_prefix_space_ && !pieces.empty() && !pieces.front().empty() &&
            pieces.front()[0] != ' ')
            pieces.front().insert(0, 1, ' ');
        std::vector<std::string> out;
        for (auto& p : pieces) {
            if (splitter_) {
                for (auto& q : splitter_->split(p, SplitBehavior::isolated)) out.push_back(std::move(q));
            } else {
                out.push_back(std::move(p));
            }
        }
        const auto& map = byte_to_unicode();
        for (auto& p : out) {
            std::string mapped;
            for (unsigned char c : p) mapped += map[c];
            p = std::move(mapped);
        }
        pieces = std::move(out);
    }

private:
    bool add_prefix_space_;
    std::unique_ptr<RegexSplitter> splitter_;
};

class Split : public PreTokenizer {
public:
    Split(const Json& pattern, SplitBehavior behavior, bool invert)
        : behavior_(behavior), invert_(invert) {
        KILN_CHECK(pattern.is_object() && (pattern.contains("Regex") || pattern.contains("String")),
                   "tokenizer: Split needs a {\"Regex\": ...} or {\"String\": ...} pattern");
        const bool literal = pattern.contains("String");
        splitter_ = std::make_unique<RegexSplitter>(
            pattern[literal ? "String" : "Regex"].get<std::string>(), literal);
    }
    void split(std::vector<std::string>& pieces) const override {
        std::vector<std::string> out;
        for (const auto& p : pieces)
            for (auto& q : splitter_->split(p, behavior_, invert_)) out.push_back(std::move(q));
        pieces = std::move(out);
    }

private:
    std::unique_ptr<RegexSplitter> splitter_;
    SplitBehavior behavior_;
    bool invert_;
};

// Spaces become the replacement character (U+2581 by default), which also starts each piece.
class Metaspace : public PreTokenizer {
public:
    Metaspace(std::string replacement, bool prepend, bool split)
        : replacement_(std::move(replacement)), prepend_(prepend), split_(split) {}
    void split(std::vector<std::string>& pieces) const override {
        std::vector<std::string> out;
        for (size_t i = 0; i < pieces.size(); ++i) {
            std::string s;
            for (char c : pieces[i]) {
                if (c == ' ')
                    s += replacement_;
                else
                    s += c;
            }
            if (prepend_ && i == 0 && s.compare(0, replacement_.size(), replacement_) != 0)
                s.insert(0, replacement_);
            if (!split_) {
                out.push_back(std::move(s));
                continue;
            }
            size_t start = 0;
            for (size_t at = s.find(replacement_, 1); at != std::string::npos;
                 at = s.find(replacement_, at + replacement_.size())) {
                out.push_back(s.substr(start, at - start));
                start = at;
            }
            out.push_back(s.substr(start));
        }
        pieces.clear();
        for (auto& p : out)
            if (!p.empty()) pieces.push_back(std::move(p));
    }

private:
    std::string replacement_;
    bool prepend_, split_;
};

class Sequence : public PreTokenizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
    void split(std::vector<std::string>& pieces) const override {
        for (const auto& s : steps_) s->split(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const Json& j) {
    if (j.is_null()) return nullptr;
    const std::string type = j.value("type", "");
    if (type == "ByteLevel")
        return std::make_unique<ByteLevel>(j.value("add_prefix_space", false),
                                           j.value("use_regex", true));
    if (type == "Split")
        return std::make_unique<Split>(j.at("pattern"),
                                       parse_split_behavior(j.value("behavior", "Isolated")),
                                       j.value("invert", false));
    if (type == "Metaspace") {
        bool prepend = j.value("add_prefix_space", true);
        if (j.contains("prepend_scheme")) {
            const std::string scheme = j["prepend_scheme"].get<std::string>();
            KILN_CHECK(scheme == "always" || scheme == "first" || scheme == "never",
                       "tokenizer: Metaspace prepend_scheme '", scheme, "' is unknown");
            prepend = scheme != "never";
        }
        return std::make_unique<Metaspace>(j.value("replacement", std::string("\u2581")), prepend,
                                           j.value("split", true));
    }
    if (type == "Digits") {
        const char* pattern = j.value("individual_digits", false) ? R"(\p{Nd})" : R"(\p{Nd}+)";
        return std::make_unique<Split>(Json{{"Regex", pattern}}, SplitBehavior::isolated, false);
    }
    if (type == "Sequence") {
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (const auto& s : j.at("pretokenizers"))
            if (auto p = make_pre_tokenizer(s)) steps.push_back(std::move(p));
        return std::make_unique<Sequence>(std::move(steps));
    }
    KILN_THROW("tokenizer: unsupported pre_tokenizer type '", type, "'");
}

}  // namespace kiln::tokenizer
