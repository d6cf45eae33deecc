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
/// pages to the system at once instead of leaving them in malloc's heap. Packed weights that
/// kernels stream take their memory from here too. `free_tensor_memory` needs the size given
/// to `allocate_tensor_memory`.
void* allocate_tensor_memory(size_t bytes);
void free_tensor_memory(void* p, size_t bytes);
constexpr size_t kTensorMapBytes = size_t{1} << 20;  // from this size on: a mapping of its own
/// From this size on the mapping starts on a huge-page boundary and asks for transparent huge
/// pages for its whole 2 MiB stretches (what streaming weights and large activations read
/// fastest from); its tail stays on small pages, so nothing is added to the resident size.
constexpr size_t kHugeMapBytes = size_t{4} << 20;
constexpr size_t kHugePageBytes = size_t{2} << 20;

/// Memory for buffers kernels stream through, such as packed weights: 64-byte aligned heap
/// memory, and from kHugeMapBytes on a huge-page mapping of its own. Free it with
/// `free_streamed_memory` and the same size.
void* allocate_streamed_memory(size_t bytes);
void free_streamed_memory(void* p, size_t bytes);

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
