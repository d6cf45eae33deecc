// Case mapping goes through ICU's full mappings (as Python's does: "ß".upper() is "SS").
#include "genai/chat_template/text.hpp"

#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>

#include "genai/chat_template/library.hpp"

namespace kiln::chat_template {

namespace {

std::string icu_case(const std::string& s, bool upper) {
    icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
    if (upper)
        u.toUpper(icu::Locale::getRoot());
    else
        u.toLower(icu::Locale::getRoot());
    std::string out;
    u.toUTF8String(out);
    return out;
}

bool is_ascii_space(const std::string& c) {
    return c.size() == 1 &&
           (c[0] == ' ' || (c[0] >= '\t' && c[0] <= '\r') || (c[0] >= '\x1c' && c[0] <= '\x1f'));
}

// Python's str.isspace for the characters templates meet: ASCII, NBSP, and the Unicode spaces.
bool is_space_char(const std::string& c) {
    if (is_ascii_space(c)) return true;
    static const char* const kSpaces[] = {"\u0085", "\u00a0", "\u1680", "\u2000", "\u2001",
                                          "\u2002", "\u2003", "\u2004", "\u2005", "\u2006",
                                          "\u2007", "\u2008", "\u2009", "\u200a", "\u2028",
                                          "\u2029", "\u202f", "\u205f", "\u3000"};
    for (const char* s : kSpaces)
        if (c == s) return true;
    return false;
}

}  // namespace

std::string to_upper(const std::string& s) { return icu_case(s, true); }
std::string to_lower(const std::string& s) { return icu_case(s, false); }

std::string capitalize(const std::string& s) {
    auto chars = utf8_chars(s);
    if (chars.empty()) return s;
    std::string rest;
    for (size_t i = 1; i < chars.size(); ++i) rest += chars[i];
    return to_upper(chars[0]) + to_lower(rest);
}

std::string title(const std::string& s) {
    std::string out;
    std::string word;
    auto flush = [&] {
        if (!word.empty()) out += capitalize(word);
        word.clear();
    };
    for (const std::string& c : utf8_chars(s)) {
        bool boundary =
            is_space_char(c) || c == "-" || c == "(" || c == "{" || c == "[" || c == "<";
        if (boundary) {
            flush();
            out += c;
        } else {
            word += c;
        }
    }
    flush();
    return out;
}

std::string strip(const std::string& s, const std::string* chars, bool left, bool right) {
    auto cs = utf8_chars(s);
    std::vector<std::string> set;
    if (chars != nullptr) set = utf8_chars(*chars);
    auto strippable = [&](const std::string& c) {
        return chars == nullptr ? is_space_char(c)
                                : std::find(set.begin(), set.end(), c) != set.end();
    };
    size_t b = 0, e = cs.size();
    if (left)
        while (b < e && strippable(cs[b])) ++b;
    if (right)
        while (e > b && strippable(cs[e - 1])) --e;
    std::string out;
    for (size_t i = b; i < e; ++i) out += cs[i];
    return out;
}

std::vector<std::string> split(const std::string& s, const std::string* sep, long long maxsplit) {
    std::vector<std::string> out;
    if (sep != nullptr) {
        size_t start = 0;
        while (maxsplit < 0 || static_cast<long long>(out.size()) < maxsplit) {
            size_t at = s.find(*sep, start);
            if (at == std::string::npos) break;
            out.push_back(s.substr(start, at - start));
            start = at + sep->size();
        }
        out.push_back(s.substr(start));
        return out;
    }
    auto cs = utf8_chars(s);
    size_t i = 0;
    while (true) {
        while (i < cs.size() && is_space_char(cs[i])) ++i;
        if (i >= cs.size()) break;
        std::string piece;
        if (maxsplit >= 0 && static_cast<long long>(out.size()) >= maxsplit) {
            for (; i < cs.size(); ++i) piece += cs[i];
            out.push_back(std::move(piece));
            break;
        }
        while (i < cs.size() && !is_space_char(cs[i])) piece += cs[i++];
        out.push_back(std::move(piece));
    }
    return out;
}

std::string replace(const std::string& s, const std::string& old, const std::string& with,
                    long long count) {
    std::string out;
    long long done = 0;
    if (old.empty()) {
        // Python inserts `with` before every character and at the end.
        auto cs = utf8_chars(s);
        for (const std::string& c : cs) {
            if (count < 0 || done < count) {
                out += with;
                ++done;
            }
            out += c;
            check_size(out.size());
        }
        if (count < 0 || done < count) out += with;
        check_size(out.size());
        return out;
    }
    size_t start = 0;
    while (count < 0 || done < count) {
        size_t at = s.find(old, start);
        if (at == std::string::npos) break;
        out.append(s, start, at - start);
        out += with;
        check_size(out.size());
        start = at + old.size();
        ++done;
    }
    out.append(s, start, std::string::npos);
    check_size(out.size());
    return out;
}

size_t char_count(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

}  // namespace kiln::chat_template
