#pragma once
// The CPU device's thread pool: one parallel_for that splits an index range over the pool's
// workers and the calling thread. Chunks are claimed with an atomic counter; idle workers spin
// briefly (spin_us()) before sleeping, so the next call of a graph usually finds them awake. Kernels describe their work by an estimated cost per item so
// that small ranges run inline, where waking threads would cost more than the work itself.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::cpu {

class ThreadPool {
public:
    using RangeFn = std::function<void(int64_t lo, int64_t hi)>;

    /// Below this estimated total cost (roughly: scalar operations) a parallel_for runs inline.
    static constexpr int64_t kInlineCost = 20000;

    /// `threads` counts the calling thread: ThreadPool(4) starts 3 workers, and ThreadPool(0) or
    /// ThreadPool(1) starts none, so every parallel_for runs inline.
    /// `spin_us` < 0 takes spin_us().
    explicit ThreadPool(int threads, int64_t spin_us = -1);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    /// How many threads a parallel_for may use, the caller included.
    int concurrency() const { return static_cast<int>(workers_.size()) + 1; }

    /// Calls fn(lo, hi) over disjoint chunks covering [begin, end) exactly once, and returns when
    /// all have run. The first exception thrown by a chunk is rethrown here (chunks not started
    /// by then are skipped). Runs inline, as one fn(begin, end) call, when the range is empty or
    /// cheap, when the pool has no workers, when called from inside a chunk (of any pool), and
    /// when another thread's parallel_for holds the pool: callers never wait for each other.
    void parallel_for(int64_t begin, int64_t end, int64_t cost_per_item, const RangeFn& fn);

    /// The number of hardware threads (at least 1).
    static int hardware_threads();

    /// How long idle threads spin before sleeping, in microseconds: KILN_POOL_SPIN_US, else
    /// kDefaultSpinUs. Spinning lets back-to-back parallel_for calls skip the futex wake-up.
    static int64_t spin_us();
    static constexpr int64_t kDefaultSpinUs = 100;

private:
    struct Job {
        const RangeFn* fn = nullptr;
        int64_t begin = 0, end = 0, chunk = 1, chunks = 0;
        std::atomic<int64_t> next{0};  // next chunk to hand out
        std::atomic<int64_t> done{0};  // chunks finished or skipped
        std::atomic<bool> failed{false};
        std::mutex error_mutex;
        std::exception_ptr error;  // the first failure
    };

    void worker_loop();
    /// Runs chunks of `job` until none is left.
    void run_chunks(Job& job);
    /// Spins up to spin_ns_ for `ready`; true if it became true.
    template <class Pred>
    bool spin_until(Pred ready) const;

    // Workers wake on a new epoch_ and join the job in job_; a worker counts itself in in_job_
    // before it reads job_, and the caller waits for in_job_ to drain after clearing job_, so no
    // worker touches a Job that has left the caller's stack. The sleepers_ / caller_sleeping_
    // flags tell the other side whether it must take sleep_mutex_ to notify (rarely, with
    // spinning).
    std::vector<std::thread> workers_;
    std::mutex caller_mutex_;  // held by the one parallel_for using the workers
    std::atomic<Job*> job_{nullptr};
    std::atomic<uint64_t> epoch_{0};
    std::atomic<int> in_job_{0};
    std::atomic<int> sleepers_{0};
    std::atomic<bool> caller_sleeping_{false};
    std::atomic<bool> stop_{false};
    std::mutex sleep_mutex_;
    std::condition_variable wake_cv_;  // workers sleep here between jobs
    std::condition_variable done_cv_;  // the caller sleeps here for the last chunk
    int64_t spin_ns_ = 0;
};

}  // namespace kiln::cpu
