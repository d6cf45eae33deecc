// The CPU device's fusions apply to the builders' graphs: norms become LayerNorm, GELU becomes
// Gelu, linear layers with a bias become FullyConnected, and each layer's attention and KV state
// become one ScaledDotProductAttentionWithKVCache; the fused graph is what the parity test runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "hf_reference.hpp"
#include "kiln/runtime.hpp"
#include "ops/reference_executor.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::hf;

namespace {

std::map<std::string, size_t> runtime_types(const std::string& name, LlmConfig* config) {
    const fs::path folder = fs::path(test::reference_root()) / name;
    if (!fs::exists(folder / "config.json")) return {};
    *config = test::read_config(folder);
    auto compiled = Core().compile_model(Core().read_model(folder.string()), "CPU");
    std::map<std::string, size_t> types;
    for (const auto& n : compiled.get_runtime_model()->ordered_ops()) ++types[n->type()];
    if (std::getenv("KILN_HF_PRINT_TYPES"))
        for (const auto& [t, c] : types) std::printf("%s %s %zu\n", name.c_str(), t.c_str(), c);
    return types;
}

}  // namespace

TEST(HfFusion, Gpt2) {
    LlmConfig c;
    auto t = runtime_types("gpt2", &c);
    if (t.empty()) GTEST_SKIP() << "no reference folder";
    const size_t layers = static_cast<size_t>(c.num_layers);
    EXPECT_EQ(t["LayerNorm"], 2 * layers + 1);
    EXPECT_EQ(t["MVN"], 0u);
    EXPECT_EQ(t["Gelu"], layers);
    EXPECT_EQ(t["Tanh"], 0u);
    EXPECT_EQ(t["FullyConnected"], 4 * layers);  // c_attn (q, k, v at once), c_proj, c_fc, mlp.c_proj
    EXPECT_EQ(t["MatMul"], 1u);                  // the tied output projection
    // The KV-cache update runs inside attention: no ReadValue/Concat/Assign left for it.
    EXPECT_EQ(t["ScaledDotProductAttentionWithKVCache"], layers);
    EXPECT_EQ(t["ReadValue"], 0u);
    EXPECT_EQ(t["Assign"], 0u);
}

TEST(HfFusion, Qwen2) {
    LlmConfig c;
    auto t = runtime_types("qwen2", &c);
    if (t.empty()) GTEST_SKIP() << "no reference folder";
    const size_t layers = static_cast<size_t>(c.num_layers);
    EXPECT_EQ(t["LayerNorm"], 2 * layers + 1);  // RMSNorm
    EXPECT_EQ(t["ReduceMean"], 0u);
    EXPECT_EQ(t["FullyConnected"], layers);      // q, k, v stacked, with their biases
    EXPECT_EQ(t["MatMul"], 3 * layers + 1);      // o, gate+up stacked, down, output projection
    EXPECT_EQ(t["ScaledDotProductAttentionWithKVCache"], layers);
    EXPECT_EQ(t["ReadValue"], 0u);
}

// The fused graph on the CPU device computes what the builder's graph computes with the
// reference kernels, for every architecture.
TEST(HfFusion, FusedMatchesUnfused) {
    for (const char* name : {"gpt2", "llama", "qwen2", "mistral"}) {
        const fs::path folder = fs::path(test::reference_root()) / name;
        if (!fs::exists(folder / "config.json")) GTEST_SKIP() << "no reference folder";
        auto model = Core().read_model(folder.string());
        const TensorVector inputs = {Tensor::from_vector<int64_t>({0, 9, 17, 42, 7, 3}, {2, 3}),
                                     Tensor::from_vector<int64_t>({0, 1, 1, 1, 1, 1}, {2, 3}),
                                     Tensor::from_vector<int64_t>({1, 0, 1, 0, 1, 2}, {2, 3})};
        const Tensor expected = evaluate_model(*model, inputs)[0];
        auto req = Core().compile_model(model, "CPU", hf::test::kExactKvCache).create_infer_request();
        for (size_t i = 0; i < inputs.size(); ++i) req.set_input_tensor(i, inputs[i]);
        req.infer();
        const Tensor got = req.get_tensor("logits");
        ASSERT_EQ(got.shape(), expected.shape()) << name;
        double diff = 0, scale = 0;
        for (int64_t i = 0; i < got.size(); ++i) {
            diff = std::max(diff, static_cast<double>(
                                      std::fabs(got.data<float>()[i] - expected.data<float>()[i])));
            scale = std::max(scale, static_cast<double>(std::fabs(expected.data<float>()[i])));
        }
        EXPECT_LE(diff / scale, 1e-5) << name;
    }
}
