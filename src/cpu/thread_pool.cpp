#include "cpu/thread_pool.hpp"

#include <algorithm>

namespace kiln::cpu {

namespace {

// Depth of pool chunks on this thread's stack: a parallel_for issued from inside a chunk runs
// inline, so a worker never waits for work that only workers could do.
thread_local int t_chunk_depth = 0;

struct ChunkScope {
    ChunkScope() { ++t_chunk_depth; }
    ~ChunkScope() { --t_chunk_depth; }
};

}  // namespace

ThreadPool::ThreadPool(int threads) {
    const int workers = std::max(threads, 1) - 1;
    workers_.reserve(static_cast<size_t>(workers));
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : workers_) t.join();
}

int ThreadPool::hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

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

    std::unique_lock<std::mutex> lock(mutex_);
    job_ = &job;
    lock.unlock();
    work_cv_.notify_all();
    lock.lock();
    run_chunks(lock);
    done_cv_.wait(lock, [&] { return job.done == job.chunks && busy_workers_ == 0; });
    job_ = nullptr;
    lock.unlock();
    if (job.error) std::rethrow_exception(job.error);
}

void ThreadPool::run_chunks(std::unique_lock<std::mutex>& lock) {
    Job& job = *job_;
    while (job.next < job.chunks) {
        const int64_t index = job.next++;
        if (job.error) {  // skip what has not started once a chunk failed
            ++job.done;
            continue;
        }
        const int64_t lo = job.begin + index * job.chunk;
        const int64_t hi = std::min(job.end, lo + job.chunk);
        lock.unlock();
        std::exception_ptr error;
        try {
            ChunkScope scope;
            (*job.fn)(lo, hi);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        if (error && !job.error) job.error = error;
        ++job.done;
    }
}

void ThreadPool::worker_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        work_cv_.wait(lock, [&] { return stop_ || (job_ && job_->next < job_->chunks); });
        if (stop_) return;
        ++busy_workers_;
        run_chunks(lock);
        --busy_workers_;
        if (job_->done == job_->chunks && busy_workers_ == 0) done_cv_.notify_all();
    }
}

}  // namespace kiln::cpu
