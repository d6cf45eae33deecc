#include "kiln/shape.hpp"

#include <cstdlib>

#include "kiln/error.hpp"

namespace kiln {

int64_t shape_size(const Shape& s) {
    int64_t n = 1;
    for (auto d : s) {
        KILN_CHECK(!__builtin_mul_overflow(n, d, &n), "shape ", to_string(s),
                   " has more elements than fit in 64 bits");
    }
    return n;
}

std::string to_string(const Shape& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) {
        if (i) out += ",";
        out += std::to_string(s[i]);
    }
    return out + "]";
}

std::vector<int64_t> row_major_strides(const Shape& s) {
    std::vector<int64_t> st(s.size(), 1);
    for (int64_t i = static_cast<int64_t>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
    return st;
}

int64_t Dimension::get_length() const {
    KILN_CHECK(is_static(), "dimension is dynamic");
    return value_;
}

PartialShape::PartialShape(const Shape& s) : rank_known_(true) {
    dims_.reserve(s.size());
    for (auto d : s) dims_.emplace_back(d);
}

PartialShape PartialShape::dynamic(std::optional<int64_t> rank) {
    if (!rank) return PartialShape();
    return PartialShape(std::vector<Dimension>(static_cast<size_t>(*rank)));
}

int64_t PartialShape::rank() const {
    KILN_CHECK(rank_known_, "rank is dynamic");
    return static_cast<int64_t>(dims_.size());
}

bool PartialShape::is_static() const {
    if (!rank_known_) return false;
    for (const auto& d : dims_)
        if (d.is_dynamic()) return false;
    return true;
}

Shape PartialShape::to_shape() const {
    KILN_CHECK(is_static(), "shape ", kiln::to_string(*this), " is not static");
    Shape s;
    for (const auto& d : dims_) s.push_back(d.get_length());
    return s;
}

bool PartialShape::compatible(const Shape& s) const {
    if (!rank_known_) return true;
    if (s.size() != dims_.size()) return false;
    for (size_t i = 0; i < s.size(); ++i)
        if (!dims_[i].compatible(Dimension(s[i]))) return false;
    return true;
}

bool PartialShape::compatible(const PartialShape& s) const {
    if (!rank_known_ || !s.rank_known_) return true;
    if (s.dims_.size() != dims_.size()) return false;
    for (size_t i = 0; i < dims_.size(); ++i)
        if (!dims_[i].compatible(s.dims_[i])) return false;
    return true;
}

std::string to_string(const PartialShape& s) {
    if (!s.rank_is_static()) return "[...]";
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) {
        if (i) out += ",";
        out += s[i].is_static() ? std::to_string(s[i].get_length()) : "?";
    }
    return out + "]";
}

}  // namespace kiln

namespace kiln {

PartialShape parse_partial_shape(const std::string& text) {
    std::string t;
    for (char c : text)
        if (c != ' ' && c != '[' && c != ']') t += c;
    if (t == "...") return PartialShape();
    std::vector<Dimension> dims;
    if (t.empty()) return PartialShape(dims);
    size_t start = 0;
    while (start <= t.size()) {
        size_t pos = t.find(',', start);
        std::string item = t.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
        if (item == "?" || item == "-1" || item.find("..") != std::string::npos) {
            dims.emplace_back();
        } else {
            char* end = nullptr;
            long long v = std::strtoll(item.c_str(), &end, 10);
            KILN_CHECK(!item.empty() && *end == '\0' && v >= 0, "invalid dimension '", item,
                       "' in shape '", text, "'");
            dims.emplace_back(static_cast<int64_t>(v));
        }
        if (pos == std::string::npos) break;
        start = pos + 1;
    }
    return PartialShape(dims);
}

std::string partial_shape_to_ir(const PartialShape& s) {
    if (!s.rank_is_static()) return "...";
    std::string out;
    for (size_t i = 0; i < s.size(); ++i)
        out += (i ? "," : "") + (s[i].is_static() ? std::to_string(s[i].get_length()) : "?");
    return out;
}

}  // namespace kiln
