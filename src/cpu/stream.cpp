#include "cpu/stream.hpp"

namespace kiln::cpu {

Stream::Stream(int threads)
    : pool_(threads), queue_(std::make_shared<Queue>()), thread_(run, queue_) {}

Stream::~Stream() {
    {
        std::lock_guard<std::mutex> lock(queue_->mutex);
        queue_->stop = true;
    }
    queue_->cv.notify_all();
    if (on_executor())
        thread_.detach();  // joining itself would deadlock; the thread owns the queue it reads
    else
        thread_.join();
}

void Stream::enqueue(std::function<void()> job) {
    {
        std::lock_guard<std::mutex> lock(queue_->mutex);
        queue_->jobs.push_back(std::move(job));
    }
    queue_->cv.notify_one();
}

void Stream::run(std::shared_ptr<Queue> q) {
    std::unique_lock<std::mutex> lock(q->mutex);
    for (;;) {
        q->cv.wait(lock, [&] { return q->stop || !q->jobs.empty(); });
        if (q->jobs.empty()) return;  // stopped and drained
        std::function<void()> job = std::move(q->jobs.front());
        q->jobs.pop_front();
        lock.unlock();
        job();
        job = nullptr;  // may release the last reference to the stream's owner
        lock.lock();
    }
}

}  // namespace kiln::cpu
