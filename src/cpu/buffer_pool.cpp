#include "cpu/buffer_pool.hpp"

#include <cstdlib>
#include <cstring>

#include "kiln/tensor.hpp"

namespace kiln::cpu {

bool BufferPool::enabled() {
    static const bool on = [] {
        const char* v = std::getenv("KILN_BUFFER_POOL");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    return on;
}

BufferPool::BufferPool() : state_(std::make_shared<State>()) {}

BufferPool::~BufferPool() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->closed = true;
    for (auto& [bytes, list] : state_->free)
        for (void* p : list) free_tensor_memory(p, bytes);
    state_->free.clear();
    state_->stats.cached_bytes = 0;
}

BufferPool::State::~State() {
    for (auto& [size, list] : free)
        for (void* p : list) free_tensor_memory(p, size);
}

std::shared_ptr<void> BufferPool::allocate(size_t bytes) {
    void* p = nullptr;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        Stats& s = state_->stats;
        auto it = state_->free.find(bytes);
        if (it != state_->free.end() && !it->second.empty()) {
            p = it->second.back();
            it->second.pop_back();
            s.cached_bytes -= bytes;
            ++s.hits;
        } else {
            ++s.misses;
        }
        s.live_bytes += bytes;
        s.peak_live_bytes = std::max(s.peak_live_bytes, s.live_bytes);
    }
    if (!p) p = allocate_tensor_memory(bytes);
    if (!p) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->stats.live_bytes -= bytes;
        return nullptr;
    }
    return std::shared_ptr<void>(p, [state = state_, bytes](void* q) { state->give_back(q, bytes); });
}

void BufferPool::State::give_back(void* p, size_t bytes) {
    {
        std::lock_guard<std::mutex> lock(mutex);
        stats.live_bytes -= bytes;
        // Bounded by the request's peak working set, so that a request whose shapes change does
        // not keep buffers of every size it has seen. Exactly the peak is too tight: sizes that
        // peak at different moments must all stay cached (a BERT encoder needs about 2.3x).
        if (!closed && stats.cached_bytes + bytes <= kCacheFactor * stats.peak_live_bytes) {
            free[bytes].push_back(p);
            stats.cached_bytes += bytes;
            return;
        }
    }
    free_tensor_memory(p, bytes);
}

BufferPool::Stats BufferPool::stats() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->stats;
}

}  // namespace kiln::cpu
