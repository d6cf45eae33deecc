#include "cpu/kernels/conv/conv_scratch.hpp"

#include <cstdlib>
#include <new>

namespace kiln::cpu::conv {

float* scratch(int slot, int64_t n) {
    struct Buffer {
        float* p = nullptr;
        int64_t size = 0;
        ~Buffer() { std::free(p); }
    };
    thread_local Buffer buffers[kScratchSlots];
    Buffer& b = buffers[slot];
    if (b.size < n) {
        std::free(b.p);
        b.p = nullptr;
        b.size = 0;
        const size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64;
        b.p = static_cast<float*>(std::aligned_alloc(64, bytes));
        if (!b.p) throw std::bad_alloc();
        b.size = n;
    }
    return b.p;
}

}  // namespace kiln::cpu::conv
