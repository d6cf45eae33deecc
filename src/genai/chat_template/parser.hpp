#pragma once
// Recursive-descent parser of the Jinja subset into the tree of ast.hpp.
#include <memory>
#include <string>

#include "genai/chat_template/ast.hpp"

namespace kiln::chat_template {

/// Limits that keep parsing and rendering of hostile templates off the end of the stack.
constexpr int kMaxParseNesting = 64;  // parentheses, brackets, 'not' and unary signs
constexpr int kMaxExprDepth = 256;    // height of one expression's tree
constexpr int kMaxBlockNesting = 64;  // {% if %} / {% for %} / ... inside one another

/// Parses a template; syntax errors throw kiln::Error with line:column and what was expected.
std::unique_ptr<Program> parse(const std::string& source);

}  // namespace kiln::chat_template
