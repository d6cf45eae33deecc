#pragma once
// Python's str methods that templates call, on UTF-8 text.
#include <string>
#include <vector>

namespace kiln::chat_template {

std::string to_upper(const std::string& s);
std::string to_lower(const std::string& s);
/// First character upper case, the rest lower (str.capitalize).
std::string capitalize(const std::string& s);
/// Each word capitalized; words start after whitespace, '-', or an opening bracket (Jinja's title).
std::string title(const std::string& s);

/// str.strip / lstrip / rstrip: `chars` null strips whitespace, otherwise any of its characters.
std::string strip(const std::string& s, const std::string* chars, bool left, bool right);
/// str.split(sep, maxsplit): `sep` null splits on runs of whitespace and drops empty pieces.
std::vector<std::string> split(const std::string& s, const std::string* sep, long long maxsplit);
/// str.replace(old, new, count); count < 0 replaces every occurrence.
std::string replace(const std::string& s, const std::string& old, const std::string& with,
                    long long count);
/// Number of code points.
size_t char_count(const std::string& s);

}  // namespace kiln::chat_template
