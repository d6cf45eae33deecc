#pragma once
// Options that `kiln generate` and `kiln perplexity` share: where the model runs and how.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "kiln/runtime.hpp"

namespace kiln::tools {

struct LlmDeviceOptions {
    std::string model, device = "CPU", precision, kv_cache_precision;
    std::optional<int> nthreads;

    void add_to(CLI::App* app) {
        app->add_option("model", model,
                        "An IR .xml with its tokenizer files beside it, a folder holding "
                        "model.xml, or a Hugging Face folder")
            ->required();
        app->add_option("-d,--device", device, "Device to run on")->capture_default_str();
        app->add_option("--nthreads", nthreads, "INFERENCE_NUM_THREADS (default: every core)")
            ->check(CLI::PositiveNumber);
        app->add_option("--infer-precision", precision,
                        "INFERENCE_PRECISION_HINT (default: the device's)")
            ->check(CLI::IsMember({"f32", "bf16"}));
        app->add_option("--kv-cache-precision", kv_cache_precision,
                        "KV_CACHE_PRECISION: how the KV cache is stored (default: the device's, "
                        "f16 on the CPU)")
            ->check(CLI::IsMember({"f32", "f16"}));
    }

    AnyMap properties() const {
        AnyMap p{{"PERFORMANCE_HINT", "LATENCY"}};
        if (nthreads) p["INFERENCE_NUM_THREADS"] = std::to_string(*nthreads);
        if (!precision.empty()) p["INFERENCE_PRECISION_HINT"] = precision;
        if (!kv_cache_precision.empty()) p["KV_CACHE_PRECISION"] = kv_cache_precision;
        return p;
    }
};

}  // namespace kiln::tools
