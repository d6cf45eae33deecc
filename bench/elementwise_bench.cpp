// Elementwise-family micro-benchmark: one-node models run by their reference kernel and by the
// CPU device's kernel (1 and 2 threads), on a ResNet-sized activation 1x64x112x112 and a
// BERT/GPT-2-sized 128x3072.
//   ./build/bench/kiln_elementwise_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only
// Names read <op>/<shape>/<ref | fast_t1 | fast_t2>; compare times within one run.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>

#include "cpu/kernel_selector.hpp"
#include "cpu/thread_pool.hpp"
#include "kiln/model.hpp"
#include "ops/reference_executor.hpp"

namespace {

using namespace kiln;

Tensor random_f32(const Shape& shape, uint32_t seed) {
    Tensor t(ElementType::f32, shape);
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-4.f, 4.f);
    for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(gen);
    return t;
}

struct Case {
    std::string type;
    Attributes attrs;
    std::vector<Shape> inputs;  // a shape per input; all are parameters
    Tensor constant = {};       // a last, constant input (reduction axes)
};

// threads == 0 runs the reference kernel.
void bm_node(benchmark::State& state, const Case& c, int threads) {
    std::vector<std::shared_ptr<Node>> params;
    OutputVector outs;
    TensorVector inputs;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
        params.push_back(make_parameter(ElementType::f32, c.inputs[i], "x" + std::to_string(i)));
        outs.push_back(params.back()->output(0));
        inputs.push_back(random_f32(c.inputs[i], 7 + static_cast<uint32_t>(i)));
    }
    // Power by 2 (as in LayerNorm's variance) rather than by a random exponent.
    if (c.type == "Power" && inputs[1].size() == 1) inputs[1].data<float>()[0] = 2.f;
    if (c.constant) outs.push_back(make_constant(c.constant)->output(0));
    auto y = make_node(c.type, outs, c.attrs);
    auto model = std::make_shared<Model>(OutputVector{y->output(0)}, params);
    KernelSelector select;
    if (threads > 0)
        select = [](const Node& n) { return cpu::select_kernel(n, cpu::KernelContext{}); };
    ReferencePlan plan(model, select);
    if (threads > 0 && plan.device_kernel_count() == 0) {
        state.SkipWithError("no device kernel");
        return;
    }
    cpu::ThreadPool pool(std::max(threads, 1));
    ExecContext ctx;
    ctx.threads = &pool;
    for (auto _ : state) {
        TensorVector out = plan.run(inputs, ctx);
        benchmark::DoNotOptimize(out[0].raw_data());
    }
    state.SetItemsProcessed(state.iterations() * shape_size(c.inputs[0]));
}

std::string shape_name(const Shape& s) {
    std::string r;
    for (size_t i = 0; i < s.size(); ++i) r += (i ? "x" : "") + std::to_string(s[i]);
    return r;
}

void register_all() {
    const Shape conv{1, 64, 112, 112}, fc{128, 3072};
    std::vector<Case> cases;
    for (const char* op :
         {"Relu", "Sigmoid", "Tanh", "Erf", "Exp", "Sqrt", "Abs", "HSwish", "HSigmoid", "Swish"})
        for (const Shape& s : {conv, fc}) cases.push_back({op, {}, {s}});
    for (const Shape& s : {conv, fc}) {
        cases.push_back({"Clamp", {{"min", 0.0}, {"max", 6.0}}, {s}});
        cases.push_back({"Gelu", {{"approximation_mode", std::string("ERF")}}, {s}});
        cases.push_back({"Gelu", {{"approximation_mode", std::string("TANH")}}, {s}});
    }
    for (const char* op : {"Add", "Multiply", "Divide", "Maximum", "SquaredDifference"}) {
        cases.push_back({op, {}, {conv, conv}});
        cases.push_back({op, {}, {fc, fc}});
    }
    cases.push_back({"Add", {}, {conv, {1, 64, 1, 1}}});                      // per channel
    cases.push_back({"Multiply", {}, {conv, {}}});                            // scalar
    cases.push_back({"Add", {}, {fc, {3072}}});                               // bias
    cases.push_back({"Divide", {}, {fc, {128, 1}}});                          // per row
    cases.push_back({"Power", {}, {fc, {}}});                                 // x^2
    cases.push_back({"Add", {}, {{8, 1, 64, 97}, {1, 12, 64, 1}}});           // generic
    cases.push_back({"Add", {}, {{65536, 3}, {65536, 1}}});                   // short rows
    cases.push_back({"Softmax", {{"axis", int64_t{-1}}}, {{12, 128, 128}}});  // attention
    cases.push_back({"Softmax", {{"axis", int64_t{-1}}}, {fc}});
    cases.push_back({"Softmax", {{"axis", int64_t{1}}}, {conv}});
    cases.push_back({"LogSoftmax", {{"axis", int64_t{-1}}}, {fc}});
    const Tensor last_axis = Tensor::from_vector<int64_t>({-1}, {1});
    cases.push_back({"ReduceMean", {{"keep_dims", true}}, {fc}, last_axis});  // LayerNorm
    cases.push_back({"ReduceMean", {{"keep_dims", true}}, {{128, 768}}, last_axis});
    cases.push_back({"ReduceMean",
                     {{"keep_dims", true}},
                     {conv},  // global average
                     Tensor::from_vector<int64_t>({2, 3}, {2})});
    cases.push_back({"Concat", {{"axis", int64_t{1}}}, {conv, {1, 32, 112, 112}}});
    cases.push_back({"Concat", {{"axis", int64_t{-1}}}, {fc, {128, 768}}});
    cases.push_back({"Convert", {{"destination_type", std::string("f16")}}, {fc}});
    cases.push_back({"Convert", {{"destination_type", std::string("bf16")}}, {fc}});
    for (const Case& c : cases) {
        std::string name = c.type;
        for (const char* attr : {"approximation_mode", "destination_type"})
            if (c.attrs.has(attr)) name += "_" + c.attrs.get_string(attr);
        for (const Shape& s : c.inputs) name += "/" + shape_name(s);
        for (int t : {0, 1, 2}) {
            const std::string label = t == 0 ? "ref" : "fast_t" + std::to_string(t);
            benchmark::RegisterBenchmark((name + "/" + label).c_str(), bm_node, c, t)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
