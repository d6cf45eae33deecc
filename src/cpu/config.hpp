#pragma once
// The CPU device's properties: what compile_model accepts, and how the performance hints turn
// into streams and threads.
#include <string>
#include <vector>

#include "kiln/runtime.hpp"

namespace kiln::cpu {

struct Config {
    std::string hint = "LATENCY";  // PERFORMANCE_HINT: LATENCY, THROUGHPUT or NONE
    std::string precision = "f32";  // INFERENCE_PRECISION_HINT: f32 or bf16
    // KV_CACHE_PRECISION: how stateful attention (ScaledDotProductAttentionWithKVCache) stores
    // its keys and values, f16 or f32. A decode step reads the whole cache from memory; f16
    // halves that traffic (at a 128-token context, GPT-2's cache is 15% of its INT4 weights).
    std::string kv_cache_precision = "f16";
    std::string cache_dir;          // CACHE_DIR, empty: no cache
    bool perf_count = false;        // PERF_COUNT
    int threads = 1;                // INFERENCE_NUM_THREADS, resolved
    std::vector<int> stream_threads;  // threads of each stream (their count is NUM_STREAMS)

    int streams() const { return static_cast<int>(stream_threads.size()); }
    /// The properties as the compiled model reports them (resolved values).
    AnyMap to_properties() const;
};

/// Validates `given` and resolves the hints for a machine with `hardware_threads` threads:
///   - INFERENCE_NUM_THREADS: 0 or absent means every hardware thread;
///   - NUM_STREAMS: a number, or AUTO / absent to follow PERFORMANCE_HINT:
///     LATENCY (the default) and NONE give one stream with every thread, THROUGHPUT gives
///     throughput_streams(threads);
///   - the threads are split evenly between the streams (the first ones get the remainder);
///     with more streams than threads, every stream still gets one.
Config resolve_config(const AnyMap& given, int hardware_threads);

/// THROUGHPUT's rule: one single-threaded stream per thread up to 4 threads (small machines gain
/// most from running requests side by side), then streams of 2 threads up to 16 and of 4 beyond,
/// so that large machines keep a few threads per request for latency.
int throughput_streams(int threads);

}  // namespace kiln::cpu
