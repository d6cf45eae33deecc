#pragma once
/// \file Static shapes and partial (possibly dynamic) shapes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// A static shape: one extent per axis.
using Shape = std::vector<int64_t>;

/// Number of elements of a static shape (1 for a scalar).
int64_t shape_size(const Shape& s);
/// "[2,3,4]".
std::string to_string(const Shape& s);
/// Row-major strides, in elements.
std::vector<int64_t> row_major_strides(const Shape& s);

/// One axis of a partial shape: a known extent or dynamic (-1, written "?").
class Dimension {
public:
    Dimension() = default;                       // dynamic
    Dimension(int64_t v) : value_(v < 0 ? -1 : v) {}  // NOLINT: a number is a static dimension
    static Dimension dynamic() { return Dimension(); }
    bool is_static() const { return value_ >= 0; }
    bool is_dynamic() const { return value_ < 0; }
    int64_t get_length() const;  // throws when dynamic
    int64_t value_or(int64_t v) const { return is_static() ? value_ : v; }
    bool compatible(const Dimension& other) const {
        return is_dynamic() || other.is_dynamic() || value_ == other.value_;
    }
    bool operator==(const Dimension& o) const { return value_ == o.value_; }
    bool operator!=(const Dimension& o) const { return value_ != o.value_; }

private:
    int64_t value_ = -1;
};

/// A shape whose rank and dimensions may be unknown until run time.
class PartialShape {
public:
    PartialShape() : rank_known_(false) {}  // dynamic rank
    PartialShape(std::vector<Dimension> dims) : rank_known_(true), dims_(std::move(dims)) {}  // NOLINT
    PartialShape(const Shape& s);  // NOLINT: a static shape is a partial shape
    PartialShape(std::initializer_list<Dimension> dims) : rank_known_(true), dims_(dims) {}
    static PartialShape dynamic(std::optional<int64_t> rank = std::nullopt);

    bool rank_is_static() const { return rank_known_; }
    int64_t rank() const;  // throws when the rank is dynamic
    bool is_static() const;
    bool is_dynamic() const { return !is_static(); }
    Shape to_shape() const;  // throws when dynamic
    const std::vector<Dimension>& dims() const { return dims_; }
    const Dimension& operator[](size_t i) const { return dims_.at(i); }
    Dimension& operator[](size_t i) { return dims_.at(i); }
    size_t size() const { return dims_.size(); }
    /// True if a tensor of static shape `s` can have this partial shape.
    bool compatible(const Shape& s) const;
    bool compatible(const PartialShape& s) const;
    bool operator==(const PartialShape& o) const {
        return rank_known_ == o.rank_known_ && dims_ == o.dims_;
    }
    bool operator!=(const PartialShape& o) const { return !(*this == o); }

private:
    bool rank_known_;
    std::vector<Dimension> dims_;
};

/// "[1,?,224,224]" or "[...]" for dynamic rank.
std::string to_string(const PartialShape& s);

}  // namespace kiln

namespace kiln {
/// Parses the IR text form: "1,3,?,224", "-1" and "1..10" read as dynamic, "..." dynamic rank,
/// "" a scalar.
PartialShape parse_partial_shape(const std::string& text);
/// The IR text form of a partial shape (inverse of parse_partial_shape).
std::string partial_shape_to_ir(const PartialShape& s);
}  // namespace kiln
