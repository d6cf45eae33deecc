#pragma once
// A CPU stream: one executor thread that runs queued infer jobs one after another, and the thread
// pool those jobs split their kernels over. A compiled model owns NUM_STREAMS of them; requests
// are bound to one each, so independent requests run side by side without sharing threads.
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "cpu/thread_pool.hpp"

namespace kiln::cpu {

class Stream {
public:
    /// `threads` counts the executor thread: Stream(1) runs kernels on the executor alone.
    explicit Stream(int threads);
    /// Runs the jobs already queued, then stops. Safe from the stream's own thread (a job that
    /// drops the last reference to the compiled model): the thread then finishes on its own.
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    ThreadPool& pool() { return pool_; }
    int threads() const { return pool_.concurrency(); }
    /// Queues a job for the executor thread. Jobs must not throw.
    void enqueue(std::function<void()> job);
    /// True on the executor thread of this stream.
    bool on_executor() const { return std::this_thread::get_id() == thread_.get_id(); }

private:
    // Shared with the executor thread, which may outlive the Stream (see the destructor).
    struct Queue {
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<std::function<void()>> jobs;
        bool stop = false;
    };
    static void run(std::shared_ptr<Queue> q);

    ThreadPool pool_;
    std::shared_ptr<Queue> queue_;
    std::thread thread_;
};

}  // namespace kiln::cpu
