#pragma once
// A per-request pool of tensor buffers. An inference allocates the same sizes every time, so the
// buffers its released tensors give back are handed out again by size, instead of going through
// malloc (and, for large tensors, mmap and fresh page faults) once per operation.
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/tensor_allocator.hpp"

namespace kiln::cpu {

class BufferPool : public TensorAllocator {
public:
    BufferPool();
    ~BufferPool() override;
    std::shared_ptr<void> allocate(size_t bytes) override;
    /// The cache holds at most this many times the peak of the bytes live at once.
    static constexpr size_t kCacheFactor = 4;

    struct Stats {
        size_t live_bytes = 0;    // handed out and not given back
        size_t peak_live_bytes = 0;
        size_t cached_bytes = 0;  // given back, kept for reuse
        size_t hits = 0, misses = 0;
    };
    Stats stats() const;
    /// Whether requests use a pool: yes unless KILN_BUFFER_POOL=0 (for comparisons).
    static bool enabled();

private:
    // Shared with the deleters of the buffers handed out, which may outlive the pool.
    struct State {
        std::mutex mutex;
        std::map<size_t, std::vector<void*>> free;  // by size
        Stats stats;
        bool closed = false;  // the pool is gone: buffers given back are freed
        void give_back(void* p, size_t bytes);
        ~State();
    };
    std::shared_ptr<State> state_;
};

}  // namespace kiln::cpu
