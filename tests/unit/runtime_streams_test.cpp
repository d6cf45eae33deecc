// Streams, performance hints and the asynchronous runtime API: property resolution, requests
// bound to streams, start_async / wait / callbacks, AsyncInferQueue, profiling counters.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>

#include "cpu/compiled_model.hpp"
#include "cpu/config.hpp"
#include "kiln/runtime.hpp"
#include "ops/reference_executor.hpp"
#include "test_helpers.hpp"

using namespace kiln;
using test_data::random_f32;

namespace {


/// y = Relu(x @ W + 1), x: f32 [5, 33].
std::shared_ptr<Model> small_model() {
    auto x = make_parameter(ElementType::f32, Shape{5, 33}, "x");
    x->output_info(0).names = {"x"};
    auto w = make_constant(random_f32({33, 17}, 7), "w");
    auto mm = make_node("MatMul", {x->output(0), w->output(0)}, {}, {}, "mm");
    auto one = make_constant(Tensor::scalar(1.0f), "one");
    auto add = make_node("Add", {mm->output(0), one->output(0)}, {}, {}, "add");
    auto y = make_node("Relu", {add->output(0)}, {}, {}, "relu");
    y->output_info(0).names = {"y"};
    return std::make_shared<Model>(OutputVector{y->output(0)},
                                   std::vector<std::shared_ptr<Node>>{x});
}

std::vector<int> stream_threads(const AnyMap& props, int hw) {
    return cpu::resolve_config(props, hw).stream_threads;
}

}  // namespace

TEST(CpuConfig, HintsResolveToStreamsAndThreads) {
    using V = std::vector<int>;
    EXPECT_EQ(stream_threads({}, 2), V({2}));  // LATENCY by default
    EXPECT_EQ(stream_threads({{"PERFORMANCE_HINT", "LATENCY"}}, 16), V({16}));
    EXPECT_EQ(stream_threads({{"PERFORMANCE_HINT", "NONE"}}, 4), V({4}));
    EXPECT_EQ(stream_threads({{"PERFORMANCE_HINT", "THROUGHPUT"}}, 2), V({1, 1}));
    EXPECT_EQ(stream_threads({{"PERFORMANCE_HINT", "THROUGHPUT"}}, 1), V({1}));
    EXPECT_EQ(stream_threads({{"PERFORMANCE_HINT", "THROUGHPUT"}}, 8), V({2, 2, 2, 2}));
    EXPECT_EQ(stream_threads({{"PERFORMANCE_HINT", "THROUGHPUT"}}, 32), V(8, 4));
    EXPECT_EQ(stream_threads({{"PERFORMANCE_HINT", "throughput"}, {"INFERENCE_NUM_THREADS", "3"}}, 64),
              V({1, 1, 1}));
    // NUM_STREAMS overrides the hint; threads are split, the first streams take the remainder.
    EXPECT_EQ(stream_threads({{"PERFORMANCE_HINT", "THROUGHPUT"}, {"NUM_STREAMS", "1"}}, 2), V({2}));
    EXPECT_EQ(stream_threads({{"NUM_STREAMS", "2"}, {"INFERENCE_NUM_THREADS", "5"}}, 2), V({3, 2}));
    EXPECT_EQ(stream_threads({{"NUM_STREAMS", "3"}, {"INFERENCE_NUM_THREADS", "1"}}, 2),
              V({1, 1, 1}));
    EXPECT_EQ(stream_threads({{"NUM_STREAMS", "AUTO"}}, 2), V({1, 1}));
}

TEST(CpuConfig, BadValuesAreErrors) {
    for (const AnyMap& bad : std::vector<AnyMap>{{{"NUM_STREAMS", "0"}},
                                                 {{"NUM_STREAMS", "many"}},
                                                 {{"INFERENCE_NUM_THREADS", "-1"}},
                                                 {{"PERFORMANCE_HINT", "FAST"}},
                                                 {{"INFERENCE_PRECISION_HINT", "f8"}},
                                                 {{"PERF_COUNT", "maybe"}},
                                                 {{"NO_SUCH_PROPERTY", "1"}}})
        EXPECT_THROW(cpu::resolve_config(bad, 2), Error) << bad.begin()->first;
}

TEST(RuntimeProperties, CompiledModelReportsResolvedValues) {
    Core core;
    const CompiledModel cm = core.compile_model(
        small_model(), "AUTO",
        {{"PERFORMANCE_HINT", "THROUGHPUT"}, {"INFERENCE_NUM_THREADS", "2"}, {"CACHE_DIR", ""}});
    EXPECT_EQ(cm.get_property("PERFORMANCE_HINT"), "THROUGHPUT");
    EXPECT_EQ(cm.get_property("NUM_STREAMS"), "2");
    EXPECT_EQ(cm.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"), "2");
    EXPECT_EQ(cm.get_property("INFERENCE_NUM_THREADS"), "2");
    EXPECT_EQ(cm.get_property("INFERENCE_PRECISION_HINT"), "f32");
    EXPECT_EQ(cm.get_property("CACHE_DIR"), "");
    EXPECT_EQ(cm.get_property("PERF_COUNT"), "NO");
    EXPECT_EQ(cm.get_property("EXECUTION_DEVICES"), "CPU");
    EXPECT_THROW(cm.get_property("NO_SUCH_PROPERTY"), Error);
    const CompiledModel latency = core.compile_model(small_model(), "CPU");
    EXPECT_EQ(latency.get_property("PERFORMANCE_HINT"), "LATENCY");
    EXPECT_EQ(latency.get_property("NUM_STREAMS"), "1");
    EXPECT_EQ(latency.get_property("INFERENCE_NUM_THREADS"),
              std::to_string(cpu::ThreadPool::hardware_threads()));
}

TEST(RuntimeStreams, RequestsAreBoundRoundRobinToStreamsOfTheirSize) {
    auto cm = std::make_shared<const cpu::CompiledModel>(
        small_model(), AnyMap{{"NUM_STREAMS", "3"}, {"INFERENCE_NUM_THREADS", "4"}});
    ASSERT_EQ(cm->stream_count(), 3u);
    EXPECT_EQ(cm->stream(0).threads(), 2);
    EXPECT_EQ(cm->stream(1).threads(), 1);
    for (size_t i = 0; i < 7; ++i) EXPECT_EQ(cpu::InferRequest(cm).stream_index(), i % 3);
}

TEST(RuntimeAsync, StartAsyncRunsOnTheStreamAndMatchesSync) {
    Core core;
    const CompiledModel cm = core.compile_model(small_model(), "CPU", {{"NUM_STREAMS", "2"}});
    const Tensor x = random_f32({5, 33}, 3);
    InferRequest sync = cm.create_infer_request();
    sync.set_tensor("x", x);
    sync.infer();
    const Tensor expected = sync.get_tensor("y").clone();

    for (int round = 0; round < 3; ++round) {
        InferRequest r = cm.create_infer_request();
        r.set_tensor("x", x);
        std::promise<std::thread::id> where;
        r.set_callback([&](std::exception_ptr e) {
            EXPECT_FALSE(e);
            where.set_value(std::this_thread::get_id());
        });
        r.start_async();
        r.wait();
        EXPECT_NE(where.get_future().get(), std::this_thread::get_id());
        EXPECT_TRUE(r.get_tensor("y").identical(expected));
        EXPECT_TRUE(r.wait_for(std::chrono::milliseconds(0)));  // idle: ready at once
    }
}

TEST(RuntimeAsync, ErrorsReachWaitAndCallback) {
    Core core;
    const CompiledModel cm = core.compile_model(small_model());
    InferRequest r = cm.create_infer_request();  // input never set
    std::atomic<bool> called_with_error{false};
    r.set_callback([&](std::exception_ptr e) { called_with_error = static_cast<bool>(e); });
    r.start_async();
    EXPECT_THROW(r.wait(), Error);
    EXPECT_TRUE(called_with_error);
    // A throwing callback is reported by wait() and leaves the stream working.
    r.set_tensor("x", random_f32({5, 33}, 1));
    r.set_callback([](std::exception_ptr) { throw std::runtime_error("callback failed"); });
    r.start_async();
    EXPECT_THROW(r.wait(), std::runtime_error);
    r.set_callback({});
    r.start_async();
    EXPECT_NO_THROW(r.wait());
}

TEST(RuntimeAsync, BusyRequestRefusesChangesUntilDone) {
    Core core;
    const CompiledModel cm = core.compile_model(small_model());
    InferRequest r = cm.create_infer_request();
    r.set_tensor("x", random_f32({5, 33}, 1));
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<void> entered;
    r.set_callback([&](std::exception_ptr) {
        entered.set_value();
        released.wait();
    });
    r.start_async();
    entered.get_future().wait();
    EXPECT_FALSE(r.wait_for(std::chrono::milliseconds(1)));
    EXPECT_THROW(r.set_tensor("x", random_f32({5, 33}, 2)), Error);
    EXPECT_THROW(r.infer(), Error);
    EXPECT_THROW(r.start_async(), Error);
    EXPECT_THROW(r.get_tensor("y"), Error);
    release.set_value();
    r.wait();
    EXPECT_NO_THROW(r.get_tensor("y"));
}

TEST(RuntimeAsync, CallbackMayRestartItsRequest) {
    Core core;
    const CompiledModel cm = core.compile_model(small_model());
    InferRequest r = cm.create_infer_request();
    r.set_tensor("x", random_f32({5, 33}, 1));
    std::atomic<int> runs{0};
    r.set_callback([&](std::exception_ptr e) {
        ASSERT_FALSE(e);
        r.get_tensor("y");  // outputs are readable in the callback
        if (++runs < 10) {
            r.set_tensor("x", random_f32({5, 33}, runs));
            r.start_async();
        }
    });
    r.start_async();
    r.wait();
    EXPECT_EQ(runs.load(), 10);
}

TEST(RuntimeAsync, RequestOutlivingItsCompiledModelFinishes) {
    // The last reference to the compiled model goes away on its own stream's thread.
    std::promise<void> done;
    {
        Core core;
        InferRequest r = core.compile_model(small_model()).create_infer_request();
        r.set_tensor("x", random_f32({5, 33}, 1));
        r.set_callback([&](std::exception_ptr) { done.set_value(); });
        r.start_async();
    }
    done.get_future().wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

TEST(RuntimeAsyncQueue, RunsEveryJobWithItsUserdata) {
    Core core;
    const CompiledModel cm = core.compile_model(small_model(), "CPU",
                                                {{"PERFORMANCE_HINT", "THROUGHPUT"}});
    AsyncInferQueue queue(cm);
    EXPECT_EQ(queue.size(), std::stoul(cm.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")));
    constexpr int kJobs = 60;
    std::vector<Tensor> inputs, expected;
    InferRequest ref = cm.create_infer_request();
    for (int i = 0; i < kJobs; ++i) {
        inputs.push_back(random_f32({5, 33}, 100 + i));
        ref.set_tensor("x", inputs.back());
        ref.infer();
        expected.push_back(ref.get_tensor("y").clone());
    }
    std::vector<std::atomic<int>> seen(kJobs);
    queue.set_callback([&](InferRequest& r, const std::any& userdata, std::exception_ptr e) {
        ASSERT_FALSE(e);
        const int i = std::any_cast<int>(userdata);
        EXPECT_TRUE(r.get_tensor("y").identical(expected[i])) << i;
        ++seen[i];
    });
    for (int i = 0; i < kJobs; ++i) {
        if (i % 2)
            queue.start_async({inputs[i]}, i);
        else
            queue.start_async(std::map<std::string, Tensor>{{"x", inputs[i]}}, i);
    }
    queue.wait_all();
    for (int i = 0; i < kJobs; ++i) EXPECT_EQ(seen[i].load(), 1) << i;
    EXPECT_TRUE(queue.is_ready());
    EXPECT_LT(queue.get_idle_request_id(), queue.size());
}

TEST(RuntimeAsyncQueue, FailuresGoToTheCallbackOrToWaitAll) {
    Core core;
    const CompiledModel cm = core.compile_model(small_model());
    AsyncInferQueue queue(cm, 3);
    queue.start_async();  // no input set: fails
    EXPECT_THROW(queue.wait_all(), Error);
    EXPECT_NO_THROW(queue.wait_all());  // reported once
    std::atomic<int> errors{0};
    queue.set_callback([&](InferRequest&, const std::any&, std::exception_ptr e) { errors += !!e; });
    for (int i = 0; i < 4; ++i) queue.start_async();
    EXPECT_NO_THROW(queue.wait_all());
    EXPECT_EQ(errors.load(), 4);
    EXPECT_THROW(queue.start_async({Tensor(ElementType::i32, {5, 33})}), Error);  // wrong type
    EXPECT_TRUE(queue.is_ready());
}

TEST(RuntimeProfiling, CountersNameEveryStep) {
    // MatMul has an optimized kernel; Sin has none, so it reports the reference kernel.
    auto x = make_parameter(ElementType::f32, Shape{5, 33}, "x");
    x->output_info(0).names = {"x"};
    auto w = make_constant(random_f32({33, 17}, 7), "w");
    auto mm = make_node("MatMul", {x->output(0), w->output(0)}, {}, {}, "mm");
    auto y = make_node("Sin", {mm->output(0)}, {}, {}, "sin");
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x});
    Core core;
    const CompiledModel cm = core.compile_model(model, "CPU", {{"PERF_COUNT", "YES"}});
    InferRequest r = cm.create_infer_request();
    r.set_tensor("x", random_f32({5, 33}, 1));
    r.infer();
    const auto info = r.get_profiling_info();
    ASSERT_EQ(info.size(), 2u);
    EXPECT_EQ(info[0].node_name, "mm");
    EXPECT_EQ(info[0].node_type, "MatMul");
    EXPECT_EQ(info[0].exec_type, "optimized");
    EXPECT_EQ(info[1].node_name, "sin");
    EXPECT_EQ(info[1].exec_type, "reference");
    for (const auto& p : info) {
        EXPECT_EQ(p.status, ProfilingInfo::Status::EXECUTED);
        EXPECT_GE(p.real_time.count(), 0);
    }
    InferRequest plain = core.compile_model(small_model()).create_infer_request();
    EXPECT_THROW(plain.get_profiling_info(), Error);
}

TEST(RuntimeMemory, PackedWeightsAreNotKeptTwice) {
    // w feeds only the MatMul kernel (packed copy); v feeds a packed MatMul and a reference Add.
    auto x = make_parameter(ElementType::f32, Shape{8, 8}, "x");
    auto w = make_constant(random_f32({8, 8}, 1), "w");
    auto v = make_constant(random_f32({8, 8}, 2), "v");
    auto a = make_node("MatMul", {x->output(0), w->output(0)}, {}, {}, "a");
    auto b = make_node("MatMul", {a->output(0), v->output(0)}, {}, {}, "b");
    auto y = make_node("Add", {b->output(0), v->output(0)}, {}, {}, "y");
    auto model = std::make_shared<Model>(OutputVector{y->output(0)},
                                         std::vector<std::shared_ptr<Node>>{x});
    Core core;
    const CompiledModel cm = core.compile_model(model);
    std::map<std::string, bool> has_value;
    for (const auto& n : cm.get_runtime_model()->ordered_ops())
        if (n->type() == "Const") has_value[n->name()] = !n->value().empty();
    EXPECT_FALSE(has_value.at("w"));
    EXPECT_TRUE(has_value.at("v"));
    EXPECT_FALSE(w->value().empty());  // the caller's model is untouched

    const Tensor input = random_f32({8, 8}, 9);
    InferRequest r = cm.create_infer_request();
    r.set_input_tensor(input);
    r.infer();
    const Tensor ref = evaluate_model(*model, {input})[0];
    const Tensor out = r.get_output_tensor();
    ASSERT_EQ(out.shape(), ref.shape());
    for (int64_t i = 0; i < ref.size(); ++i)
        EXPECT_NEAR(out.data<float>()[i], ref.data<float>()[i], 1e-4f) << i;
}
