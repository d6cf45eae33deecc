// GPT-2's byte-level alphabet: printable Latin-1 bytes stand for themselves, the other 68 bytes
// map to U+0100 and up, so every byte sequence becomes printable text a BPE vocabulary can hold.
#include <array>

#include "genai/tokenizer/stages.hpp"
#include "genai/tokenizer/utf8.hpp"

namespace kiln::tokenizer {

namespace {

std::array<char32_t, 256> make_table() {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        t[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
}

const std::array<char32_t, 256>& table() {
    static const auto t = make_table();
    return t;
}

}  // namespace

const std::vector<std::string>& byte_to_unicode() {
    static const std::vector<std::string> strings = [] {
        std::vector<std::string> v(256);
        for (int b = 0; b < 256; ++b) append_utf8(v[b], table()[b]);
        return v;
    }();
    return strings;
}

int unicode_to_byte(char32_t cp) {
    static const std::array<int, 512> inverse = [] {
        std::array<int, 512> inv{};
        inv.fill(-1);
        for (int b = 0; b < 256; ++b) inv[table()[b]] = b;
        return inv;
    }();
    return cp < inverse.size() ? inverse[cp] : -1;
}

}  // namespace kiln::tokenizer
