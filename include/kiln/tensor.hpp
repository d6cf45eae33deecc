#pragma once
/// \file Tensor: an element type, a static shape and a reference-counted, 64-byte aligned buffer.
#include <cstddef>
#include <memory>
#include <string>

#include "kiln/element_type.hpp"
#include "kiln/error.hpp"
#include "kiln/shape.hpp"

namespace kiln {

/// A dense row-major tensor. Copies share the buffer (like a smart pointer); `clone()` copies the
/// data. A tensor may also view memory it does not own (a memory-mapped weights file, a user
/// buffer): the owner is kept alive through `keep_alive`.
class Tensor {
public:
    static constexpr size_t kAlignment = 64;

    Tensor() = default;
    /// Allocates zero-initialized storage (strings start empty).
    Tensor(ElementType type, Shape shape);
    /// Wraps external memory without copying; `keep_alive` owns it (may be null for user memory
    /// that outlives the tensor).
    Tensor(ElementType type, Shape shape, void* data, std::shared_ptr<void> keep_alive);

    /// A tensor holding one value.
    template <class T>
    static Tensor scalar(T v) {
        Tensor t(element_type_of<T>(), {});
        *t.data<T>() = v;
        return t;
    }
    /// A 1-D (or given shape) tensor copied from values.
    template <class T>
    static Tensor from_vector(const std::vector<T>& v, Shape shape = {}) {
        if (shape.empty() && v.size() != 1) shape = {static_cast<int64_t>(v.size())};
        Tensor t(element_type_of<T>(), shape);
        KILN_CHECK(static_cast<size_t>(t.size()) == v.size(), "Tensor::from_vector: ", v.size(),
                   " values do not fill shape ", to_string(shape));
        for (size_t i = 0; i < v.size(); ++i) t.data<T>()[i] = v[i];
        return t;
    }

    bool empty() const { return type_ == ElementType::undefined; }
    explicit operator bool() const { return !empty(); }
    ElementType element_type() const { return type_; }
    const Shape& shape() const { return shape_; }
    int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
    /// Number of elements.
    int64_t size() const { return shape_size(shape_); }
    size_t byte_size() const { return kiln::byte_size(type_, static_cast<size_t>(size())); }

    void* raw_data() { return data_; }
    const void* raw_data() const { return data_; }
    template <class T>
    T* data() {
        check_type<T>();
        return static_cast<T*>(data_);
    }
    template <class T>
    const T* data() const {
        check_type<T>();
        return static_cast<const T*>(data_);
    }

    /// Deep copy with its own storage.
    Tensor clone() const;
    /// The same buffer seen with another shape of equal element count.
    Tensor reshaped(Shape shape) const;
    /// Rows [begin, end) of the outermost axis, sharing the buffer.
    Tensor slice_outer(int64_t begin, int64_t end) const;
    /// Reads element i converted to double / int64 (any numeric or boolean type).
    double value_as_double(int64_t i) const;
    int64_t value_as_int(int64_t i) const;
    /// All elements converted to int64 (handy for shape-like inputs).
    std::vector<int64_t> to_int_vector() const;
    std::vector<double> to_double_vector() const;
    /// True if both have the same type, shape and bytes (strings compared by value).
    bool identical(const Tensor& other) const;
    /// The object that owns the memory (for views that must keep it alive).
    const std::shared_ptr<void>& storage() const { return storage_; }

private:
    template <class T>
    void check_type() const {
        KILN_CHECK(type_ == element_type_of<T>() ||
                       (sizeof(T) == 1 && (type_ == ElementType::u4 || type_ == ElementType::i4 ||
                                           type_ == ElementType::u1)),
                   "Tensor of type ", to_string(type_), " accessed as ",
                   to_string(element_type_of<T>()));
    }

    ElementType type_ = ElementType::undefined;
    Shape shape_;
    std::shared_ptr<void> storage_;
    void* data_ = nullptr;
};

std::string describe(const Tensor& t);  // "f32[2,3]"

}  // namespace kiln
