#pragma once
// What a CPU kernel factory may know about the compiled model it is built for.
#include "cpu/thread_pool.hpp"

namespace kiln::cpu {

struct KernelContext {
    /// Kernels may split their work over it; it outlives them (the compiled model owns both).
    ThreadPool& pool;
    /// INFERENCE_PRECISION_HINT is bf16: kernels may compute in bf16 with f32 accumulation.
    bool bf16 = false;
};

}  // namespace kiln::cpu
