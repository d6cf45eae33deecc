#pragma once
// The CPU device's thread pool: one parallel_for that splits an index range over the pool's
// workers and the calling thread. Kernels describe their work by an estimated cost per item so
// that small ranges run inline, where waking threads would cost more than the work itself.
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
    explicit ThreadPool(int threads);
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

private:
    struct Job {
        const RangeFn* fn = nullptr;
        int64_t begin = 0, end = 0, chunk = 1, chunks = 0;
        int64_t next = 0;          // next chunk to hand out (guarded by the pool's mutex)
        int64_t done = 0;          // chunks finished or skipped
        std::exception_ptr error;  // the first failure
    };

    void worker_loop();
    /// Runs chunks of the current job until none is left; `lock` is held on entry and exit.
    void run_chunks(std::unique_lock<std::mutex>& lock);

    std::vector<std::thread> workers_;
    std::mutex caller_mutex_;  // held by the one parallel_for using the workers
    std::mutex mutex_;
    std::condition_variable work_cv_;  // workers wait for a job or for shutdown
    std::condition_variable done_cv_;  // the caller waits for the job to finish
    Job* job_ = nullptr;
    int busy_workers_ = 0;  // workers inside run_chunks for job_
    bool stop_ = false;
};

}  // namespace kiln::cpu
