// Where an LLM decode step spends its time: compiles a model of the LLM graph contract
// (docs/GENAI.md) with PERF_COUNT and, as LLMPipeline does, with logits for the last position
// only; prefills a prompt of random ids, then runs decode steps and prints each operation
// type's time in the prefill and its median share of a step, and the slowest nodes.
//
//     kiln_llm_decode_profile MODEL.xml [--prompt 128] [--steps 64] [--nthreads 2] [--set KEY=VALUE]...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "genai/llm/logits_to_keep.hpp"
#include "kiln/runtime.hpp"

using namespace kiln;

namespace {

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
}

Tensor i64_tensor(Shape s, const std::vector<int64_t>& values) {
    Tensor t(ElementType::i64, std::move(s));
    std::copy(values.begin(), values.end(), t.data<int64_t>());
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL.xml [--prompt N] [--steps N] [--nthreads N]\n", argv[0]);
        return 2;
    }
    int64_t prompt = 128, steps = 64;
    AnyMap properties = {{"PERF_COUNT", "YES"}, {"INFERENCE_NUM_THREADS", "2"}};
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--prompt") {
            prompt = std::atoll(value.c_str());
        } else if (flag == "--steps") {
            steps = std::atoll(value.c_str());
        } else if (flag == "--nthreads") {
            properties["INFERENCE_NUM_THREADS"] = value;
        } else if (flag == "--set" && value.find('=') != std::string::npos) {
            properties[value.substr(0, value.find('='))] = value.substr(value.find('=') + 1);
        } else {
            std::fprintf(stderr, "unknown option %s %s\n", flag.c_str(), value.c_str());
            return 2;
        }
    }
    Core core;
    auto read = core.read_model(argv[1]);
    auto model = llm::with_logits_to_keep(read, llm::logits_output_name(*read));
    const bool keep = llm::has_logits_to_keep(*model);
    CompiledModel compiled = core.compile_model(model, "CPU", properties);
    InferRequest request = compiled.create_infer_request();

    std::mt19937 rng(1);
    std::vector<int64_t> ids(prompt), positions(prompt), mask(prompt, 1);
    for (int64_t i = 0; i < prompt; ++i) {
        ids[i] = rng() % 256;
        positions[i] = i;
    }
    request.set_tensor("input_ids", i64_tensor({1, prompt}, ids));
    request.set_tensor("attention_mask", i64_tensor({1, prompt}, mask));
    request.set_tensor("position_ids", i64_tensor({1, prompt}, positions));
    if (keep) request.set_tensor(llm::kLogitsToKeep, i64_tensor({1}, {1}));
    // The first inference also pays for first-touch page faults of its buffers; generation's
    // prefill is a request's first inference, so that is the one reported; a second one follows.
    const auto p0 = std::chrono::steady_clock::now();
    request.infer();
    const double prefill_us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - p0).count();
    auto print_prefill = [&](const char* what, double us) {
        std::map<std::string, double> by;
        for (const ProfilingInfo& p : request.get_profiling_info())
            if (p.status == ProfilingInfo::Status::EXECUTED)
                by[p.node_type + " (" + p.exec_type + ")"] +=
                    std::chrono::duration<double, std::micro>(p.real_time).count();
        std::vector<std::pair<double, std::string>> sorted;
        for (auto& [t, v] : by) sorted.push_back({v, t});
        std::sort(sorted.rbegin(), sorted.rend());
        std::printf("%s of %lld tokens: %.0f us (%.0f tokens/s)\n", what,
                    static_cast<long long>(prompt), us, prompt * 1e6 / us);
        for (size_t i = 0; i < std::min<size_t>(8, sorted.size()); ++i)
            std::printf("  %-46s %10.0f %6.1f%%\n", sorted[i].second.c_str(), sorted[i].first,
                        100 * sorted[i].first / us);
    };
    print_prefill("prefill", prefill_us);
    request.reset_state();
    const auto p1 = std::chrono::steady_clock::now();
    request.infer();
    print_prefill("the same prefill again",
                  std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - p1).count());

    std::map<std::string, std::vector<double>> by_type;  // per step, microseconds
    std::map<std::string, std::vector<double>> by_node;
    std::map<std::string, std::string> node_type;
    std::vector<double> wall, summed;
    for (int64_t s = 0; s < steps; ++s) {
        const int64_t past = prompt + s;
        mask.push_back(1);
        request.set_tensor("input_ids", i64_tensor({1, 1}, {static_cast<int64_t>(rng() % 256)}));
        request.set_tensor("attention_mask", i64_tensor({1, past + 1}, mask));
        request.set_tensor("position_ids", i64_tensor({1, 1}, {past}));
        const auto t0 = std::chrono::steady_clock::now();
        request.infer();
        wall.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        std::map<std::string, double> step_types;
        double total = 0;
        for (const ProfilingInfo& p : request.get_profiling_info()) {
            if (p.status != ProfilingInfo::Status::EXECUTED) continue;
            const double us = std::chrono::duration<double, std::micro>(p.real_time).count();
            step_types[p.node_type + " (" + p.exec_type + ")"] += us;
            by_node[p.node_name].push_back(us);
            node_type[p.node_name] = p.node_type;
            total += us;
        }
        for (auto& [t, us] : step_types) by_type[t].push_back(us);
        summed.push_back(total);
    }
    const double step = median(wall), ops = median(summed);
    std::printf("decode step at context %lld: median %.0f us wall (%.1f tokens/s), %.0f us in operations\n",
                static_cast<long long>(prompt), step, 1e6 / step, ops);
    std::vector<std::pair<double, std::string>> types;
    for (auto& [t, v] : by_type) types.push_back({median(v), t});
    std::sort(types.rbegin(), types.rend());
    std::printf("%-48s %10s %7s\n", "operation type", "us/step", "share");
    for (auto& [us, t] : types) std::printf("%-48s %10.1f %6.1f%%\n", t.c_str(), us, 100 * us / step);
    std::vector<std::pair<double, std::string>> nodes;
    for (auto& [n, v] : by_node) nodes.push_back({median(v), n});
    std::sort(nodes.rbegin(), nodes.rend());
    std::printf("\nslowest nodes:\n");
    for (size_t i = 0; i < std::min<size_t>(15, nodes.size()); ++i)
        std::printf("%10.1f us  %-28s %s\n", nodes[i].first, node_type[nodes[i].second].c_str(),
                    nodes[i].second.c_str());
    std::printf("nodes executed per step: %zu\n", by_node.size());
    return 0;
}
