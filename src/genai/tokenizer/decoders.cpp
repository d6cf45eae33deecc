// Decoders of tokenizer.json: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip and
// Sequence. Each rewrites the list of token strings; the pipeline joins what is left.
#include <unicode/unistr.h>

#include "genai/tokenizer/stages.hpp"
#include "genai/tokenizer/utf8.hpp"
#include "kiln/error.hpp"

namespace kiln::tokenizer {

namespace {

// Byte-level characters back to the bytes they stand for; other characters (in added tokens)
// pass through as their UTF-8.
class ByteLevel : public Decoder {
public:
    void decode(std::vector<std::string>& tokens) const override {
        for (auto& t : tokens) {
            std::string bytes;
            const icu::UnicodeString u = icu::UnicodeString::fromUTF8(t);
            for (int32_t i = 0; i < u.length(); i = u.moveIndex32(i, 1)) {
                const UChar32 cp = u.char32At(i);
                const int b = unicode_to_byte(static_cast<char32_t>(cp));
                if (b >= 0)
                    bytes += static_cast<char>(b);
                else
                    append_utf8(bytes, static_cast<char32_t>(cp));
            }
            t = std::move(bytes);
        }
    }
};

class Replace : public Decoder {
public:
    Replace(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
    void decode(std::vector<std::string>& tokens) const override {
        for (auto& t : tokens) replace_all(t, from_, to_);
    }

private:
    std::string from_, to_;
};

class Metaspace : public Decoder {
public:
    Metaspace(std::string replacement, bool strip_first)
        : replacement_(std::move(replacement)), strip_first_(strip_first) {}
    void decode(std::vector<std::string>& tokens) const override {
        for (size_t i = 0; i < tokens.size(); ++i) {
            replace_all(tokens[i], replacement_, " ");
            if (i == 0 && strip_first_ && !tokens[i].empty() && tokens[i][0] == ' ')
                tokens[i].erase(0, 1);
        }
    }

private:
    std::string replacement_;
    bool strip_first_;
};

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// Runs of <0xAB> tokens become the bytes they name; a run that is not valid UTF-8 becomes one
// U+FFFD per byte, as the reference implementation does.
class ByteFallback : public Decoder {
public:
    void decode(std::vector<std::string>& tokens) const override {
        std::vector<std::string> out;
        std::string run;
        size_t run_tokens = 0;
        auto flush = [&] {
            if (run_tokens == 0) return;
            bool valid = true;
            try {
                check_utf8(run, "byte run");
            } catch (const Error&) {
                valid = false;
            }
            if (valid) {
                out.push_back(run);
            } else {
                for (size_t i = 0; i < run_tokens; ++i) out.push_back("\xEF\xBF\xBD");
            }
            run.clear();
            run_tokens = 0;
        };
        for (auto& t : tokens) {
            int byte = -1;
            if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
                const int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
                if (hi >= 0 && lo >= 0) byte = hi * 16 + lo;
            }
            if (byte >= 0) {
                run += static_cast<char>(byte);
                ++run_tokens;
            } else {
                flush();
                out.push_back(std::move(t));
            }
        }
        flush();
        tokens = std::move(out);
    }
};

class Fuse : public Decoder {
public:
    void decode(std::vector<std::string>& tokens) const override {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens.assign(1, std::move(all));
    }
};

// Removes up to `start` leading and `stop` trailing copies of `content` from each token.
class Strip : public Decoder {
public:
    Strip(std::string content, int64_t start, int64_t stop)
        : content_(std::move(content)), start_(start), stop_(stop) {}
    void decode(std::vector<std::string>& tokens) const override {
        if (content_.empty()) return;
        for (auto& t : tokens) {
            for (int64_t i = 0; i < start_ && t.compare(0, content_.size(), content_) == 0; ++i)
                t.erase(0, content_.size());
            for (int64_t i = 0; i < stop_ && t.size() >= content_.size() &&
                                t.compare(t.size() - content_.size(), content_.size(), content_) == 0;
                 ++i)
                t.erase(t.size() - content_.size());
        }
    }

private:
    std::string content_;
    int64_t start_, stop_;
};

class Sequence : public Decoder {
public:
    explicit Sequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
    void decode(std::vector<std::string>& tokens) const override {
        for (const auto& s : steps_) s->decode(tokens);
    }

private:
    std::vector<std::unique_ptr<Decoder>> steps_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const Json& j) {
    if (j.is_null()) return nullptr;
    const std::string type = j.value("type", "");
    if (type == "ByteLevel") return std::make_unique<ByteLevel>();
    if (type == "Metaspace") {
        bool strip = j.value("add_prefix_space", true);
        if (j.contains("prepend_scheme")) strip = j["prepend_scheme"].get<std::string>() != "never";
        return std::make_unique<Metaspace>(j.value("replacement", std::string("\u2581")), strip);
    }
    if (type == "Replace") {
        const Json& p = j.at("pattern");
        KILN_CHECK(p.is_object() && p.contains("String"),
                   "tokenizer: the Replace decoder supports only a {\"String\": ...} pattern");
        return std::make_unique<Replace>(p["String"].get<std::string>(),
                                         j.at("content").get<std::string>());
    }
    if (type == "ByteFallback") return std::make_unique<ByteFallback>();
    if (type == "Fuse") return std::make_unique<Fuse>();
    if (type == "Strip")
        return std::make_unique<Strip>(j.at("content").get<std::string>(), j.value("start", 0),
                                       j.value("stop", 0));
    if (type == "Sequence") {
        std::vector<std::unique_ptr<Decoder>> steps;
        for (const auto& s : j.at("decoders"))
            if (auto d = make_decoder(s)) steps.push_back(std::move(d));
        return std::make_unique<Sequence>(std::move(steps));
    }
    KILN_THROW("tokenizer: unsupported decoder type '", type, "'");
}

}  // namespace kiln::tokenizer
