#pragma once
// Where Tensor(type, shape) takes its memory from. By default the heap; a device may install an
// allocator for the current thread (AllocatorScope) so that the tensors a running inference
// allocates come from, and go back to, a pool of its own instead of malloc and fresh pages.
#include <cstddef>
#include <memory>

namespace kiln {

class TensorAllocator {
public:
    virtual ~TensorAllocator() = default;
    /// At least `bytes` bytes (a multiple of Tensor::kAlignment, > 0), aligned to
    /// Tensor::kAlignment, or null when out of memory. The deleter of the returned pointer gives
    /// the memory back and may run on any thread, after the allocator's owner is gone.
    virtual std::shared_ptr<void> allocate(size_t bytes) = 0;
};

/// Installs `allocator` for the tensors allocated on this thread while the scope lives (null:
/// the heap). String tensors always use the heap.
class AllocatorScope {
public:
    explicit AllocatorScope(TensorAllocator* allocator);
    ~AllocatorScope();
    AllocatorScope(const AllocatorScope&) = delete;
    AllocatorScope& operator=(const AllocatorScope&) = delete;

private:
    TensorAllocator* previous_;
};

}  // namespace kiln
