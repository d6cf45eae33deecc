#include "cpu/thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace kiln::cpu {

namespace {

// Depth of pool chunks on this thread's stack: a parallel_for issued from inside a chunk runs
// inline, so a worker never waits for work that only workers could do.
thread_local int t_chunk_depth = 0;

struct ChunkScope {
    ChunkScope() { ++t_chunk_depth; }
    ~ChunkScope() { --t_chunk_depth; }
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    std::this_thread::yield();
#endif
}

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

int64_t ThreadPool::spin_us() {
    static const int64_t us = [] {
        const char* v = std::getenv("KILN_POOL_SPIN_US");
        if (!v || !*v) return kDefaultSpinUs;
        char* end = nullptr;
        const long long n = std::strtoll(v, &end, 10);
        return *end == '\0' && n >= 0 ? static_cast<int64_t>(std::min<long long>(n, 1000000))
                                      : kDefaultSpinUs;
    }();
    return us;
}

ThreadPool::ThreadPool(int threads, int64_t spin_us)
    : spin_ns_((spin_us < 0 ? ThreadPool::spin_us() : spin_us) * 1000) {
    const int workers = std::max(threads, 1) - 1;
    workers_.reserve(static_cast<size_t>(workers));
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        stop_.store(true);
    }
    wake_cv_.notify_all();
    for (auto& t : workers_) t.join();
}

int ThreadPool::hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

template <class Pred>
bool ThreadPool::spin_until(Pred ready) const {
    if (ready()) return true;
    if (spin_ns_ == 0) return false;
    // A few microseconds of pause loops catch back-to-back calls; after that the thread yields
    // between checks, so that on a machine with more runnable threads than cores the spinning
    // does not take the core from the caller's serial work or from other processes.
    constexpr int64_t kPureSpinNs = 5000;
    const int64_t start = now_ns(), deadline = start + spin_ns_;
    for (int i = 1;; ++i) {
        cpu_relax();
        if (ready()) return true;
        if (i % 64 == 0) {
            const int64_t t = now_ns();
            if (t >= deadline) return false;
            if (t - start > kPureSpinNs) std::this_thread::yield();
        }
    }
}

void ThreadPool::parallel_for(int64_t begin, int64_t end, int64_t cost_per_item,
                              const RangeFn& fn) {
    if (end <= begin) return;
    const int64_t items = end - begin;
    const int64_t cost = std::max<int64_t>(cost_per_item, 1);
    // Saturating: a huge range times a huge cost is simply "expensive".
    const int64_t total = items > INT64_MAX / cost ? INT64_MAX : items * cost;
    std::unique_lock<std::mutex> caller(caller_mutex_, std::defer_lock);
    if (workers_.empty() || total < kInlineCost || t_chunk_depth > 0 || !caller.try_lock()) {
        ChunkScope scope;
        fn(begin, end);
        return;
    }

    // A few chunks per thread balance uneven chunks; no chunk is cheaper than the inline bound.
    const int64_t threads = concurrency();
    int64_t chunks = std::min<int64_t>(items, threads * 4);
    chunks = std::max<int64_t>(1, std::min<int64_t>(chunks, total / (kInlineCost / 4)));
    chunks = std::max<int64_t>(chunks, std::min<int64_t>(items, threads));
    Job job;
    job.fn = &fn;
    job.begin = begin;
    job.end = end;
    job.chunk = (items + chunks - 1) / chunks;
    job.chunks = (items + job.chunk - 1) / job.chunk;

    job_.store(&job);
    epoch_.fetch_add(1);
    if (sleepers_.load() > 0) {
        std::lock_guard<std::mutex> lock(sleep_mutex_);
        wake_cv_.notify_all();
    }
    run_chunks(job);  // the caller works too

    const auto all_done = [&] { return job.done.load(std::memory_order_acquire) == job.chunks; };
    if (!spin_until(all_done)) {
        caller_sleeping_.store(true);
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        done_cv_.wait(lock, all_done);
        caller_sleeping_.store(false);
    }
    job_.store(nullptr);
    // Workers that saw the job but found no chunk left are on their way out.
    while (in_job_.load() != 0) std::this_thread::yield();
    if (job.error) std::rethrow_exception(job.error);
}

void ThreadPool::run_chunks(Job& job) {
    for (;;) {
        const int64_t index = job.next.fetch_add(1, std::memory_order_relaxed);
        if (index >= job.chunks) return;
        if (!job.failed.load(std::memory_order_relaxed)) {  // skip the rest once a chunk failed
            const int64_t lo = job.begin + index * job.chunk;
            const int64_t hi = std::min(job.end, lo + job.chunk);
            try {
                ChunkScope scope;
                (*job.fn)(lo, hi);
            } catch (...) {
                std::lock_guard<std::mutex> lock(job.error_mutex);
                if (!job.error) job.error = std::current_exception();
                job.failed.store(true, std::memory_order_relaxed);
            }
        }
        if (job.done.fetch_add(1) + 1 == job.chunks && caller_sleeping_.load()) {
            std::lock_guard<std::mutex> lock(sleep_mutex_);
            done_cv_.notify_all();
        }
    }
}

void ThreadPool::worker_loop() {
    uint64_t seen = 0;
    for (;;) {
        const auto woken = [&] { return epoch_.load() != seen || stop_.load(); };
        if (!spin_until(woken)) {
            std::unique_lock<std::mutex> lock(sleep_mutex_);
            sleepers_.fetch_add(1);
            wake_cv_.wait(lock, woken);
            sleepers_.fetch_sub(1);
        }
        if (stop_.load()) return;
        seen = epoch_.load();
        in_job_.fetch_add(1);
        if (Job* job = job_.load()) run_chunks(*job);
        in_job_.fetch_sub(1);
    }
}

}  // namespace kiln::cpu
