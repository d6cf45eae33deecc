#pragma once
/// \file Kiln's single exception type and the helpers that build it with context.
#include <sstream>
#include <stdexcept>
#include <string>

namespace kiln {

/// The one exception type Kiln throws at its API edges. The message carries context such as
/// "[MatMul 'fc1'] input 1 has shape [3,4], expected [4,?]".
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
    os << v;
    append(os, rest...);
}
}  // namespace detail

/// Concatenates every argument with operator<< into one string.
template <class... Args>
std::string str_cat(const Args&... args) {
    std::ostringstream os;
    detail::append(os, args...);
    return os.str();
}

}  // namespace kiln

/// Throws kiln::Error built from the streamed arguments when the condition is false.
#define KILN_CHECK(cond, ...)                                  \
    do {                                                       \
        if (!(cond)) throw ::kiln::Error(::kiln::str_cat(__VA_ARGS__)); \
    } while (0)

#define KILN_THROW(...) throw ::kiln::Error(::kiln::str_cat(__VA_ARGS__))
