#pragma once
// The built-in filters, tests, global functions and methods on strings and dicts.
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "genai/chat_template/value.hpp"

namespace kiln::chat_template {

/// Evaluated arguments of a call: positional, then keyword.
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;

    /// The argument of parameter `index` / `name`, or undefined when not given. Throws when a
    /// keyword names no parameter in `params` or more positionals than `params` were given.
    void bind(const char* callee, const std::vector<const char*>& params);
    const Value& get(size_t index) const;
    bool has(size_t index) const { return !get(index).undefined(); }

private:
    std::vector<Value> bound_;
};

/// Thrown by the library without a position; the renderer adds the position of the expression.
struct LibError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
[[noreturn]] void lib_fail(const std::string& message);

bool has_filter(const std::string& name);
bool has_test(const std::string& name);

/// These throw LibError with a message that names the filter, test or method; the renderer
/// adds the position.
Value apply_filter(const std::string& name, const Value& input, CallArgs& args);
bool apply_test(const std::string& name, const Value& input, CallArgs& args);
/// obj.name(args) on strings, dicts and the loop variable; found false when there is no such
/// method.
Value call_method(const Value& obj, const std::string& name, CallArgs& args, bool& found);

/// An integer argument (a boolean counts as 0 or 1); fails naming `what` otherwise.
int64_t need_int(const Value& v, const char* what);

/// Attribute and item access as Jinja does them; undefined when missing.
Value get_attr(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);

/// Elements of a list, the keys of a dict, the characters of a string; nothing for undefined.
std::vector<Value> iterate(const Value& v);

/// Code points of UTF-8 text, each as its bytes; invalid bytes are one-byte characters.
std::vector<std::string> utf8_chars(const std::string& s);

/// Strings longer than this are refused, so that "x" * huge and doubling loops stop early.
constexpr size_t kMaxStringBytes = size_t{16} << 20;
void check_size(size_t bytes);

}  // namespace kiln::chat_template
