#include <condition_variable>
#include <deque>
#include <mutex>

#include "cpu/compiled_model.hpp"
#include "kiln/runtime.hpp"

namespace kiln {

struct AsyncInferQueue::State {
    std::vector<InferRequest> requests;
    std::vector<std::any> userdata;
    Callback callback;
    std::mutex mutex;
    std::condition_variable idle_cv;
    std::deque<size_t> idle;
    std::exception_ptr error;  // first failure for wait_all()

    void finished(size_t id, std::exception_ptr e) {
        Callback cb;
        {
            std::lock_guard<std::mutex> lock(mutex);
            cb = callback;
        }
        std::exception_ptr report = cb ? nullptr : e;
        if (cb) {
            try {
                cb(requests[id], userdata[id], e);
            } catch (...) {
                report = std::current_exception();
            }
        }
        // Notified under the lock: once the request is idle the queue may be destroyed.
        std::lock_guard<std::mutex> lock(mutex);
        if (report && !error) error = report;
        userdata[id].reset();
        idle.push_back(id);
        idle_cv.notify_all();
    }

    /// The request is listed idle from its callback, a moment before it accepts new work.
    void settle(size_t id) {
        try {
            requests[id].wait();
        } catch (...) {
        }  // its error went to the callback or to `error`
    }
};

AsyncInferQueue::AsyncInferQueue(const CompiledModel& model, size_t jobs)
    : state_(std::make_shared<State>()) {
    if (jobs == 0) jobs = std::stoul(model.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"));
    KILN_CHECK(jobs <= 1024, "AsyncInferQueue: ", jobs, " requests is too many");
    state_->userdata.resize(jobs);
    for (size_t i = 0; i < jobs; ++i) {
        state_->requests.push_back(model.create_infer_request());
        State* s = state_.get();  // the queue outlives its requests' jobs: ~AsyncInferQueue waits
        state_->requests.back().set_callback([s, i](std::exception_ptr e) { s->finished(i, e); });
        state_->idle.push_back(i);
    }
}

AsyncInferQueue::~AsyncInferQueue() {
    {
        std::unique_lock<std::mutex> lock(state_->mutex);
        state_->idle_cv.wait(lock, [&] { return state_->idle.size() == state_->requests.size(); });
    }
    for (size_t i = 0; i < state_->requests.size(); ++i) state_->settle(i);
}

size_t AsyncInferQueue::size() const { return state_->requests.size(); }

InferRequest& AsyncInferQueue::operator[](size_t i) {
    KILN_CHECK(i < state_->requests.size(), "AsyncInferQueue: request ", i,
               " is out of range: the queue has ", state_->requests.size());
    return state_->requests[i];
}

void AsyncInferQueue::set_callback(Callback callback) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->callback = std::move(callback);
}

bool AsyncInferQueue::is_ready() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return !state_->idle.empty();
}

size_t AsyncInferQueue::get_idle_request_id() {
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->idle_cv.wait(lock, [&] { return !state_->idle.empty(); });
    return state_->idle.front();
}

size_t AsyncInferQueue::take_idle() {
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->idle_cv.wait(lock, [&] { return !state_->idle.empty(); });
    const size_t id = state_->idle.front();
    state_->idle.pop_front();
    lock.unlock();
    state_->settle(id);
    return id;
}

void AsyncInferQueue::launch(size_t id, std::any userdata) {
    state_->userdata[id] = std::move(userdata);
    try {
        state_->requests[id].start_async();
    } catch (...) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->userdata[id].reset();
        state_->idle.push_front(id);
        throw;
    }
}

void AsyncInferQueue::start_async(const std::vector<Tensor>& inputs, std::any userdata) {
    const size_t id = take_idle();
    try {
        for (size_t i = 0; i < inputs.size(); ++i) state_->requests[id].set_input_tensor(i, inputs[i]);
    } catch (...) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->idle.push_front(id);
        throw;
    }
    launch(id, std::move(userdata));
}

void AsyncInferQueue::start_async(const std::map<std::string, Tensor>& inputs, std::any userdata) {
    const size_t id = take_idle();
    try {
        for (const auto& [name, t] : inputs) state_->requests[id].set_tensor(name, t);
    } catch (...) {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->idle.push_front(id);
        throw;
    }
    launch(id, std::move(userdata));
}

void AsyncInferQueue::wait_all() {
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->idle_cv.wait(lock, [&] { return state_->idle.size() == state_->requests.size(); });
    lock.unlock();
    for (size_t i = 0; i < state_->requests.size(); ++i) state_->settle(i);
    lock.lock();
    if (std::exception_ptr e = std::exchange(state_->error, nullptr)) std::rethrow_exception(e);
}

}  // namespace kiln
