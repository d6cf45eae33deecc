// Normalizers of tokenizer.json: NFC/NFD/NFKC/NFKD (ICU), Lowercase, Replace, Prepend, Strip,
// and Sequence of them.
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include "genai/tokenizer/stages.hpp"
#include "genai/tokenizer/utf8.hpp"
#include "kiln/error.hpp"

namespace kiln::tokenizer {

namespace {

class UnicodeForm : public Normalizer {
public:
    explicit UnicodeForm(const std::string& form) {
        UErrorCode status = U_ZERO_ERROR;
        if (form == "NFC") norm_ = icu::Normalizer2::getNFCInstance(status);
        else if (form == "NFD") norm_ = icu::Normalizer2::getNFDInstance(status);
        else if (form == "NFKC") norm_ = icu::Normalizer2::getNFKCInstance(status);
        else norm_ = icu::Normalizer2::getNFKDInstance(status);
        KILN_CHECK(U_SUCCESS(status) && norm_, "tokenizer: ICU has no ", form, " normalizer");
    }
    std::string normalize(std::string text) const override {
        UErrorCode status = U_ZERO_ERROR;
        const icu::UnicodeString out =
            norm_->normalize(icu::UnicodeString::fromUTF8(text), status);
        KILN_CHECK(U_SUCCESS(status), "tokenizer: Unicode normalization failed");
        std::string s;
        return out.toUTF8String(s);
    }

private:
    const icu::Normalizer2* norm_ = nullptr;
};

class Lowercase : public Normalizer {
public:
    std::string normalize(std::string text) const override {
        std::string s;
        return icu::UnicodeString::fromUTF8(text).toLower().toUTF8String(s);
    }
};

class Replace : public Normalizer {
public:
    Replace(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
    std::string normalize(std::string text) const override {
        replace_all(text, from_, to_);
        return text;
    }

private:
    std::string from_, to_;
};

// Prepends only to non-empty text, as the reference implementation does.
class Prepend : public Normalizer {
public:
    explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
    std::string normalize(std::string text) const override {
        return text.empty() ? text : prefix_ + text;
    }

private:
    std::string prefix_;
};

class Strip : public Normalizer {
public:
    Strip(bool left, bool right) : left_(left), right_(right) {}
    std::string normalize(std::string text) const override {
        icu::UnicodeString u = icu::UnicodeString::fromUTF8(text);
        int32_t b = 0, e = u.length();
        while (left_ && b < e && u_isUWhiteSpace(u.char32At(b))) b = u.moveIndex32(b, 1);
        while (right_ && e > b && u_isUWhiteSpace(u.char32At(u.moveIndex32(e, -1))))
            e = u.moveIndex32(e, -1);
        std::string s;
        return u.tempSubStringBetween(b, e).toUTF8String(s);
    }

private:
    bool left_, right_;
};

class Sequence : public Normalizer {
public:
    explicit Sequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
    std::string normalize(std::string text) const override {
        for (const auto& s : steps_) text = s->normalize(std::move(text));
        return text;
    }

private:
    std::vector<std::unique_ptr<Normalizer>> steps_;
};

// Replace's pattern is {"String": "..."}; a {"Regex": ...} pattern is not supported here.
std::string literal_pattern(const Json& p, const char* stage) {
    KILN_CHECK(p.is_object() && p.contains("String"), "tokenizer: ", stage,
               " supports only a literal {\"String\": ...} pattern, got ", p.dump());
    return p["String"].get<std::string>();
}

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const Json& j) {
    if (j.is_null()) return nullptr;
    const std::string type = j.value("type", "");
    if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD")
        return std::make_unique<UnicodeForm>(type);
    if (type == "Lowercase") return std::make_unique<Lowercase>();
    if (type == "Replace")
        return std::make_unique<Replace>(literal_pattern(j.at("pattern"), "Replace normalizer"),
                                         j.at("content").get<std::string>());
    if (type == "Prepend") return std::make_unique<Prepend>(j.at("prepend").get<std::string>());
    if (type == "Strip") return std::make_unique<Strip>(j.value("strip_left", true), j.value("strip_right", true));
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Normalizer>> steps;
        for (const auto& s : j.at("normalizers"))
            if (auto n = make_normalizer(s)) steps.push_back(std::move(n));
        return std::make_unique<Sequence>(std::move(steps));
    }
    KILN_THROW("tokenizer: unsupported normalizer type '", type, "'");
}

}  // namespace kiln::tokenizer
