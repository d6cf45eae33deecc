// Jinja's lexer rules as transformers renders chat templates: trim_blocks removes the newline
// after a block or comment tag, lstrip_blocks removes a line's indentation before one, '-' strips
// all whitespace on its side and '+' turns lstrip/trim off; one trailing newline is dropped.
#include "genai/chat_template/lexer.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "genai/tokenizer/utf8.hpp"
#include "kiln/error.hpp"

namespace kiln::chat_template {

void fail(Pos pos, const std::string& message) {
    KILN_THROW("chat template ", pos.line, ":", pos.col, ": ", message);
}

std::string describe(const Token& t) {
    switch (t.type) {
        case TokenType::Text:
            return "template text";
        case TokenType::VarBegin:
            return "'{{'";
        case TokenType::VarEnd:
            return "'}}'";
        case TokenType::BlockBegin:
            return "'{%'";
        case TokenType::BlockEnd:
            return "'%}'";
        case TokenType::Name:
            return "'" + t.text + "'";
        case TokenType::String:
            return "a string";
        case TokenType::Integer:
        case TokenType::Float:
            return "a number";
        case TokenType::Op:
            return "'" + t.text + "'";
        case TokenType::Eof:
            return "the end of the template";
    }
    return "?";
}

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

std::string normalize_newlines(const std::string& raw) {
    std::string s;
    s.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\r') {
            s += '\n';
            if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
        } else {
            s += raw[i];
        }
    }
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// What follows '-'/'+' of a closing tag: how much whitespace the next text loses.
enum class Trim { None, Newline, All };

class Lexer {
public:
    explicit Lexer(std::string source) : src_(std::move(source)) {
        line_starts_.push_back(0);
        for (size_t i = 0; i < src_.size(); ++i)
            if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }

    std::vector<Token> run() {
        while (true) {
            size_t open = find_open(pos_);
            size_t text_start = pos_;
            size_t text_end = open == std::string::npos ? src_.size() : open;
            std::string text = src_.substr(text_start, text_end - text_start);
            if (trim_next_ == Trim::Newline && !text.empty() && text[0] == '\n') {
                text.erase(0, 1);
                ++text_start;
            } else if (trim_next_ == Trim::All) {
                size_t n = 0;
                while (n < text.size() && is_space(text[n])) ++n;
                text.erase(0, n);
                text_start += n;
            }
            trim_next_ = Trim::None;
            if (open == std::string::npos) {
                emit_text(std::move(text), text_start);
                break;
            }
            const char kind = src_[open + 1];
            size_t p = open + 2;
            char mod = 0;
            if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) mod = src_[p++];
            if (mod == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (mod != '+' && kind != '{') {
                lstrip_block(text, text_start);
            }
            emit_text(std::move(text), text_start);
            if (kind == '#') {
                lex_comment(open, p);
            } else if (kind == '%' && raw_tag_end(p, "raw") != std::string::npos) {
                lex_raw(open, p);
            } else {
                lex_tag(open, p, kind);
            }
        }
        out_.push_back(Token{TokenType::Eof, "", at(src_.size())});
        return std::move(out_);
    }

private:
    Pos at(size_t offset) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
        size_t line = static_cast<size_t>(it - line_starts_.begin());
        return Pos{static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
    }

    size_t find_open(size_t from) const {
        for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
            if (i + 1 < src_.size() &&
                (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
                return i;
        }
        return std::string::npos;
    }

    // lstrip_blocks: indentation between the line start and a block or comment tag goes.
    void lstrip_block(std::string& text, size_t text_start) const {
        size_t nl = text.rfind('\n');
        size_t line_pos = nl == std::string::npos ? 0 : nl + 1;
        bool line_starting = text_start == 0 || src_[text_start - 1] == '\n';
        if (line_pos == 0 && !line_starting) return;
        for (size_t i = line_pos; i < text.size(); ++i)
            if (text[i] != ' ' && text[i] != '\t') return;
        text.resize(line_pos);
    }

    void emit_text(std::string text, size_t offset) {
        if (text.empty()) return;
        out_.push_back(Token{TokenType::Text, std::move(text), at(offset)});
    }

    // Sets trim_next_ from the modifier before a closing delimiter at `close`.
    void close_with(char mod) {
        trim_next_ = mod == '-' ? Trim::All : mod == '+' ? Trim::None : Trim::Newline;
    }

    void lex_comment(size_t open, size_t p) {
        size_t close = src_.find("#}", p);
        if (close == std::string::npos) fail(at(open), "unclosed comment: expected '#}'");
        char mod =
            close > p && (src_[close - 1] == '-' || src_[close - 1] == '+') ? src_[close - 1] : 0;
        close_with(mod);
        pos_ = close + 2;
    }

    // If the tag starting after "{%[-+]" at `p` is exactly `name`, the offset past its "%}".
    size_t raw_tag_end(size_t p, const char* name) const {
        while (p < src_.size() && is_space(src_[p])) ++p;
        size_t n = std::strlen(name);
        if (src_.compare(p, n, name) != 0) return std::string::npos;
        p += n;
        if (p < src_.size() && is_name_char(src_[p])) return std::string::npos;
        while (p < src_.size() && is_space(src_[p])) ++p;
        if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
        if (src_.compare(p, 2, "%}") != 0) return std::string::npos;
        return p + 2;
    }

    // {% raw %}...{% endraw %}: the text between is literal.
    void lex_raw(size_t open, size_t p) {
        size_t begin_end = raw_tag_end(p, "raw");
        char begin_mod = src_[begin_end - 3];
        size_t body = begin_end;
        if (begin_mod == '-') {  // Jinja keeps the newline after a plain {% raw %}
            while (body < src_.size() && is_space(src_[body])) ++body;
        }
        for (size_t i = src_.find("{%", body); i != std::string::npos; i = src_.find("{%", i + 2)) {
            size_t q = i + 2;
            char mod = 0;
            if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) mod = src_[q++];
            size_t end = raw_tag_end(q, "endraw");
            if (end == std::string::npos) continue;
            std::string text = src_.substr(body, i - body);
            if (mod == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (mod != '+') {
                lstrip_block(text, body);
            }
            emit_text(std::move(text), body);
            close_with(src_[end - 3] == '-' || src_[end - 3] == '+' ? src_[end - 3] : 0);
            pos_ = end;
            return;
        }
        fail(at(open), "unclosed '{% raw %}': expected '{% endraw %}'");
    }

    void lex_tag(size_t open, size_t p, char kind) {
        const bool block = kind == '%';
        out_.push_back(Token{block ? TokenType::BlockBegin : TokenType::VarBegin, "", at(open)});
        std::vector<size_t>
            brackets;  // inside brackets a closing delimiter is an operator, as in Jinja
        while (true) {
            while (p < src_.size() && is_space(src_[p])) ++p;
            if (p >= src_.size()) {
                if (!brackets.empty())
                    fail(at(brackets.back()),
                         str_cat("unclosed '", src_[brackets.back()], "' in a tag"));
                fail(at(open),
                     block ? "unclosed '{%': expected '%}'" : "unclosed '{{': expected '}}'");
            }
            if (brackets.empty()) {
                const char* end = block ? "%}" : "}}";
                char mod = 0;
                size_t q = p;
                if (src_[q] == '-' || (block && src_[q] == '+')) mod = src_[q++];
                if (src_.compare(q, 2, end) == 0) {
                    out_.push_back(
                        Token{block ? TokenType::BlockEnd : TokenType::VarEnd, "", at(p)});
                    if (block) {
                        close_with(mod);
                    } else {
                        trim_next_ = mod == '-' ? Trim::All : Trim::None;
                    }
                    pos_ = q + 2;
                    return;
                }
            }
            p = lex_token(p, brackets);
        }
    }

    size_t lex_token(size_t p, std::vector<size_t>& brackets) {
        const char c = src_[p];
        if (is_name_start(c)) {
            size_t e = p;
            while (e < src_.size() && is_name_char(src_[e])) ++e;
            out_.push_back(Token{TokenType::Name, src_.substr(p, e - p), at(p)});
            return e;
        }
        if (is_digit(c)) return lex_number(p);
        if (c == '\'' || c == '"') return lex_string(p);
        static const char* const kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
        for (const char* op : kTwo) {
            if (src_.compare(p, 2, op) == 0) {
                out_.push_back(Token{TokenType::Op, op, at(p)});
                return p + 2;
            }
        }
        if (std::strchr("+-*/%~<>=()[]{},.:|", c) != nullptr && c != '\0') {
            if (c == '(' || c == '[' || c == '{') brackets.push_back(p);
            if ((c == ')' || c == ']' || c == '}') && !brackets.empty()) {
                const char open = src_[brackets.back()];
                if ((open == '(' && c != ')') || (open == '[' && c != ']') ||
                    (open == '{' && c != '}')) {
                    Pos o = at(brackets.back());
                    fail(at(p), str_cat("unexpected '", c, "': the '", open, "' at ", o.line, ":",
                                        o.col, " is not closed"));
                }
                brackets.pop_back();
            }
            out_.push_back(Token{TokenType::Op, std::string(1, c), at(p)});
            return p + 1;
        }
        std::string shown =
            static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f
                ? str_cat("byte 0x", std::hex, static_cast<int>(static_cast<unsigned char>(c)))
                : str_cat("'", c, "'");
        fail(at(p), "unexpected character " + shown + " in a tag");
    }

    size_t lex_number(size_t p) {
        size_t e = p;
        bool is_float = false;
        while (e < src_.size() && is_digit(src_[e])) ++e;
        if (e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
            is_float = true;
            ++e;
            while (e < src_.size() && is_digit(src_[e])) ++e;
        }
        if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
            size_t q = e + 1;
            if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
            if (q < src_.size() && is_digit(src_[q])) {
                is_float = true;
                e = q;
                while (e < src_.size() && is_digit(src_[e])) ++e;
            }
        }
        Token t{TokenType::Integer, src_.substr(p, e - p), at(p)};
        const char* first = src_.data() + p;
        const char* last = src_.data() + e;
        if (!is_float) {
            auto r = std::from_chars(first, last, t.int_value);
            if (r.ec != std::errc())
                is_float = true;  // too large for int64: Kiln keeps it as a float
        }
        if (is_float) {
            t.type = TokenType::Float;
            t.float_value = std::strtod(t.text.c_str(), nullptr);
        }
        out_.push_back(std::move(t));
        return e;
    }

    size_t lex_string(size_t p) {
        const char quote = src_[p];
        std::string value;
        size_t i = p + 1;
        while (true) {
            if (i >= src_.size()) fail(at(p), "unterminated string");
            char c = src_[i];
            if (c == quote) break;
            if (c != '\\') {
                value += c;
                ++i;
                continue;
            }
            if (i + 1 >= src_.size()) fail(at(p), "unterminated string");
            i = unescape(i, value);
        }
        out_.push_back(Token{TokenType::String, std::move(value), at(p)});
        return i + 1;
    }

    // Python's string escapes, the way Jinja decodes its literals; unknown ones stay as written.
    size_t unescape(size_t i, std::string& value) const {
        const char e = src_[i + 1];
        switch (e) {
            case '\n':
                return i + 2;
            case '\\':
                value += '\\';
                return i + 2;
            case '\'':
                value += '\'';
                return i + 2;
            case '"':
                value += '"';
                return i + 2;
            case 'n':
                value += '\n';
                return i + 2;
            case 't':
                value += '\t';
                return i + 2;
            case 'r':
                value += '\r';
                return i + 2;
            case 'a':
                value += '\a';
                return i + 2;
            case 'b':
                value += '\b';
                return i + 2;
            case 'f':
                value += '\f';
                return i + 2;
            case 'v':
                value += '\v';
                return i + 2;
            default:
                break;
        }
        if (e >= '0' && e <= '7') {
            size_t j = i + 1;
            unsigned cp = 0;
            for (int n = 0; n < 3 && j < src_.size() && src_[j] >= '0' && src_[j] <= '7'; ++n, ++j)
                cp = cp * 8 + static_cast<unsigned>(src_[j] - '0');
            tokenizer::append_utf8(value, static_cast<char32_t>(cp));
            return j;
        }
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (digits > 0) {
            uint32_t cp = 0;
            for (int n = 0; n < digits; ++n) {
                size_t j = i + 2 + static_cast<size_t>(n);
                int h = j < src_.size() ? hex_value(src_[j]) : -1;
                if (h < 0) fail(at(i), str_cat("truncated \\", e, " escape in a string"));
                cp = cp * 16 + static_cast<uint32_t>(h);
            }
            if (cp > 0x10FFFF) fail(at(i), "escape beyond the last Unicode code point");
            tokenizer::append_utf8(value, static_cast<char32_t>(cp));
            return i + 2 + static_cast<size_t>(digits);
        }
        value += '\\';
        return i + 1;
    }

    const std::string src_;
    std::vector<size_t> line_starts_;
    std::vector<Token> out_;
    size_t pos_ = 0;
    Trim trim_next_ = Trim::None;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source) {
    return Lexer(normalize_newlines(source)).run();
}

}  // namespace kiln::chat_template
