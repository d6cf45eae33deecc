#pragma once
// Splits a template's source into text and the tokens of its tags, applying Jinja's whitespace
// control the way Hugging Face configures it (trim_blocks, lstrip_blocks, no trailing newline).
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::chat_template {

struct Pos {
    int line = 1;
    int col = 1;
};

/// Throws kiln::Error "chat template LINE:COL: message".
[[noreturn]] void fail(Pos pos, const std::string& message);

enum class TokenType {
    Text,        // literal template text, whitespace control already applied
    VarBegin,    // {{
    VarEnd,      // }}
    BlockBegin,  // {%
    BlockEnd,    // %}
    Name,
    String,  // text holds the unescaped value
    Integer,
    Float,
    Op,  // operators and punctuation, text holds the spelling
    Eof,
};

struct Token {
    TokenType type;
    std::string text;
    Pos pos;
    int64_t int_value = 0;
    double float_value = 0;
};

/// What a token is, for "expected X, found Y" messages.
std::string describe(const Token& token);

std::vector<Token> tokenize(const std::string& source);

}  // namespace kiln::chat_template
