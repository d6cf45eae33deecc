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

/// The heap Tensor storage comes from by default: aligned_alloc, and for large buffers their own
/// anonymous mapping, so that freeing a large tensor (a dropped weight, an activation) returns its
/// pages to the system at once instead of leaving them in malloc's heap.
void* allocate_tensor_memory(size_t bytes);
void free_tensor_memory(void* p, size_t bytes);
constexpr size_t kTensorMapBytes = size_t{1} << 20;  // from this size on: a mapping of its own

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
