#pragma once
// What a CPU kernel factory may know about the compiled model it is built for.
//
// Kernels run on the threads of the request's stream, which they get at run time from
// ExecContext::threads (see threads_of()), never from compile time: one compiled kernel serves
// every stream.
#include <unordered_map>
#include <vector>

#include "core/op_def.hpp"
#include "cpu/shared_packs.hpp"
#include "cpu/thread_pool.hpp"
#include "kiln/error.hpp"

namespace kiln::cpu {

/// Kernel factories run concurrently for different nodes (compile_model packs weights on every
/// thread): a factory may read its node and the graph, and must not write shared state other
/// than through `shared_packs`.
struct KernelContext {
    /// INFERENCE_PRECISION_HINT is bf16: kernels may compute in bf16 with f32 accumulation.
    bool bf16 = false;
    /// KV_CACHE_PRECISION is f16: attention with a KV cache stores its keys and values as f16.
    bool kv_cache_f16 = false;
    /// Packs shared between the kernels of this compiled model (shared_packs.hpp); null: every
    /// factory packs its own.
    SharedPacks* shared_packs = nullptr;
    /// How many nodes of the graph read each constant (null: unknown).
    const std::unordered_map<const Node*, int>* const_readers = nullptr;

    /// The number of nodes reading `constant`, or 0 when unknown.
    int readers_of(const Node* constant) const {
        if (!const_readers) return 0;
        auto it = const_readers->find(constant);
        return it == const_readers->end() ? 0 : it->second;
    }

    /// Called by a factory whose kernel reads constant input `input` only from a copy of its own
    /// (packed weights): the plan then passes an empty tensor there, and the compiled model drops
    /// the original constant when nothing else reads it, so the weights are not held twice.
    void keeps_own_copy(size_t input) const { own_copies.push_back(input); }
    mutable std::vector<size_t> own_copies = {};  // filled by keeps_own_copy for the node being built
};

/// The thread pool a CPU kernel runs on.
inline ThreadPool& threads_of(const ExecContext& ctx) {
    KILN_CHECK(ctx.threads, "CPU kernel run without a thread pool");
    return *ctx.threads;
}

}  // namespace kiln::cpu
