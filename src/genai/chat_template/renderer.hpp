#pragma once
// Renders a parsed template with a context of variables.
#include <string>

#include "genai/chat_template/ast.hpp"

namespace kiln::chat_template {

/// Limits on one render: how deep evaluation may recurse (macros calling macros) and how many loop
/// iterations it may run, so that no template can exhaust the stack or run for hours.
constexpr int kMaxRenderDepth = 600;
constexpr int kMaxMacroDepth = 64;
constexpr uint64_t kMaxLoopIterations = 2'000'000;

/// `context` must be a JSON object (its members become the template's variables).
std::string render(const Program& program, Json context);

}  // namespace kiln::chat_template
