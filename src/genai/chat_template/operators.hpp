#pragma once
// Python's operators over template values; they throw LibError, the renderer adds the position.
#include "genai/chat_template/ast.hpp"

namespace kiln::chat_template {

/// + - * / // % ** (and "fmt" % args); `and`, `or` and `~` are the renderer's.
Value arithmetic(BinaryOp op, const Value& a, const Value& b);
/// obj[start:stop:step] of a list or string; missing bounds are undefined.
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
/// ==, !=, <, <=, >, >=, in, not in.
bool compare_op(CompareOp op, const Value& a, const Value& b);

}  // namespace kiln::chat_template
