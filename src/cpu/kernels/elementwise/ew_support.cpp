#include "cpu/kernels/elementwise/ew_support.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

namespace kiln::cpu::ew {

Tensor uninitialized_tensor(ElementType type, Shape shape) {
    for (auto d : shape)
        KILN_CHECK(d >= 0, "negative dimension in tensor shape ", to_string(shape));
    const size_t bytes = kiln::byte_size(type, static_cast<size_t>(shape_size(shape)));
    const size_t rounded =
        std::max<size_t>((bytes + Tensor::kAlignment - 1) / Tensor::kAlignment, 1) *
        Tensor::kAlignment;
    void* p = std::aligned_alloc(Tensor::kAlignment, rounded);
    if (!p) throw std::bad_alloc();
    std::shared_ptr<void> owner(p, std::free);
    return Tensor(type, std::move(shape), p, std::move(owner));
}

void parallel_elements(ThreadPool& pool, int64_t n, int64_t cost_per_64,
                       const std::function<void(int64_t lo, int64_t hi)>& fn) {
    constexpr int64_t kBlock = 64;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    pool.parallel_for(0, blocks, cost_per_64,
                      [&](int64_t lo, int64_t hi) { fn(lo * kBlock, std::min(hi * kBlock, n)); });
}

}  // namespace kiln::cpu::ew
