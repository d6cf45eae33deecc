#pragma once
// UTF-8 and string helpers shared by the tokenizer stages.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::tokenizer {

/// Appends the UTF-8 form of code point `cp`.
void append_utf8(std::string& out, char32_t cp);
/// Length in bytes of the UTF-8 sequence starting with byte `lead` (1 for a stray byte).
size_t utf8_length(unsigned char lead);
/// The longest prefix of `s` that ends on a character boundary and holds only complete,
/// valid characters' bytes, scanning at most the last 3 bytes (streaming decode).
size_t complete_utf8_prefix(std::string_view s);
/// Replaces every occurrence of `from` (non-empty) in `s` by `to`, left to right.
void replace_all(std::string& s, const std::string& from, const std::string& to);
/// Throws kiln::Error naming `what` and the byte offset when `s` is not valid UTF-8.
void check_utf8(std::string_view s, const char* what);

}  // namespace kiln::tokenizer
