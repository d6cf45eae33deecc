#pragma once
// Output tensors for kernels that write every element: Tensor(type, shape) zero-fills its
// buffer, a pass over memory that costs as much as a cheap layer.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

#include "kiln/tensor.hpp"

namespace kiln::cpu {

inline Tensor uninitialized_tensor(ElementType type, Shape shape) {
    const size_t bytes = byte_size(type, static_cast<size_t>(shape_size(shape)));
    const size_t rounded =
        std::max<size_t>((bytes + Tensor::kAlignment - 1) / Tensor::kAlignment, 1) *
        Tensor::kAlignment;
    void* p = std::aligned_alloc(Tensor::kAlignment, rounded);
    if (!p) throw std::bad_alloc();
    std::shared_ptr<void> owner(p, [](void* q) { std::free(q); });
    return Tensor(type, std::move(shape), p, std::move(owner));
}

}  // namespace kiln::cpu
