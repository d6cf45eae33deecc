#pragma once
// Byte-level slicing and concatenation along one axis, shared by the Loop and Scan kernels.
#include <cstring>
#include <vector>

#include "kiln/tensor.hpp"

namespace kiln::control {

inline size_t element_bytes(const Tensor& t) {
    KILN_CHECK(t.element_type() != ElementType::string && bit_width(t.element_type()) % 8 == 0,
               "tensors of type ", to_string(t.element_type()),
               " cannot be sliced or concatenated here");
    return bit_width(t.element_type()) / 8;
}

/// Index `idx` of `axis`, the axis removed.
inline Tensor take_slice(const Tensor& t, int64_t axis, int64_t idx) {
    const Shape& s = t.shape();
    KILN_CHECK(axis >= 0 && axis < t.rank() && idx >= 0 && idx < s[static_cast<size_t>(axis)],
               "slice ", idx, " of axis ", axis, " is outside shape ", to_string(s));
    const size_t eb = element_bytes(t);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= s[static_cast<size_t>(d)];
    for (int64_t d = axis + 1; d < t.rank(); ++d) inner *= s[static_cast<size_t>(d)];
    const int64_t len = s[static_cast<size_t>(axis)];
    Shape os = s;
    os.erase(os.begin() + axis);
    Tensor out(t.element_type(), os);
    const auto* src = static_cast<const unsigned char*>(t.raw_data());
    auto* dst = static_cast<unsigned char*>(out.raw_data());
    const size_t block = static_cast<size_t>(inner) * eb;
    for (int64_t o = 0; o < outer; ++o)
        if (block) std::memcpy(dst + o * block, src + (o * len + idx) * block, block);
    return out;
}

/// Concatenates `parts` along `axis`; with `stack`, each part gains that axis (size 1) first.
/// `empty_shape` is the result when there are no parts.
inline Tensor join(const std::vector<Tensor>& parts, int64_t axis, bool stack, ElementType type,
                   const Shape& empty_shape) {
    if (parts.empty()) return Tensor(type, empty_shape);
    Shape base = parts[0].shape();
    if (stack) {
        KILN_CHECK(axis >= 0 && axis <= parts[0].rank(), "axis ", axis, " is outside rank ",
                   parts[0].rank() + 1);
        base.insert(base.begin() + axis, 1);
    }
    KILN_CHECK(axis >= 0 && axis < static_cast<int64_t>(base.size()), "axis ", axis,
               " is outside shape ", to_string(base));
    const size_t eb = element_bytes(parts[0]);
    int64_t outer = 1, inner = 1, total = 0;
    for (int64_t d = 0; d < axis; ++d) outer *= base[static_cast<size_t>(d)];
    for (size_t d = static_cast<size_t>(axis) + 1; d < base.size(); ++d) inner *= base[d];
    std::vector<int64_t> lens;
    for (const auto& p : parts) {
        Shape ps = p.shape();
        if (stack) ps.insert(ps.begin() + axis, 1);
        KILN_CHECK(p.element_type() == parts[0].element_type() && ps.size() == base.size(),
                   "iteration values differ: ", describe(parts[0]), " vs ", describe(p));
        for (size_t d = 0; d < ps.size(); ++d)
            KILN_CHECK(d == static_cast<size_t>(axis) || ps[d] == base[d],
                       "iteration values differ in shape: ", to_string(parts[0].shape()), " vs ",
                       to_string(p.shape()));
        lens.push_back(ps[static_cast<size_t>(axis)]);
        total += lens.back();
    }
    Shape os = base;
    os[static_cast<size_t>(axis)] = total;
    Tensor out(parts[0].element_type(), os);
    auto* dst = static_cast<unsigned char*>(out.raw_data());
    const size_t row = static_cast<size_t>(inner) * eb;
    for (int64_t o = 0; o < outer; ++o) {
        int64_t offset = 0;
        for (size_t k = 0; k < parts.size(); ++k) {
            const auto* src = static_cast<const unsigned char*>(parts[k].raw_data());
            const size_t n = static_cast<size_t>(lens[k]) * row;
            if (n) std::memcpy(dst + (o * total + offset) * row, src + o * n, n);
            offset += lens[k];
        }
    }
    return out;
}

}  // namespace kiln::control

namespace kiln::control {

/// Elements [begin, begin + len) of `axis`, the axis kept.
inline Tensor narrow(const Tensor& t, int64_t axis, int64_t begin, int64_t len) {
    const Shape& s = t.shape();
    KILN_CHECK(axis >= 0 && axis < t.rank() && begin >= 0 && len >= 0 &&
                   begin + len <= s[static_cast<size_t>(axis)],
               "part [", begin, ", ", begin + len, ") of axis ", axis, " is outside shape ",
               to_string(s));
    const size_t eb = element_bytes(t);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= s[static_cast<size_t>(d)];
    for (int64_t d = axis + 1; d < t.rank(); ++d) inner *= s[static_cast<size_t>(d)];
    const int64_t dim = s[static_cast<size_t>(axis)];
    Shape os = s;
    os[static_cast<size_t>(axis)] = len;
    Tensor out(t.element_type(), os);
    const auto* src = static_cast<const unsigned char*>(t.raw_data());
    auto* dst = static_cast<unsigned char*>(out.raw_data());
    const size_t row = static_cast<size_t>(inner) * eb, n = static_cast<size_t>(len) * row;
    for (int64_t o = 0; o < outer; ++o)
        if (n) std::memcpy(dst + o * n, src + (o * dim + begin) * row, n);
    return out;
}

}  // namespace kiln::control
