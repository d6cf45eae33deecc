// The folders of tests/hf/make_reference.py read the way users read them, through
// Core::read_model: the safetensors reader must return exactly the tensors PyTorch wrote (the npy
// sidecars), the config reader what the builders expect, and the model the PyTorch logits of the
// prompt and of the first greedy decode steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "frontends/hf/hf_config.hpp"
#include "frontends/hf/safetensors_weights.hpp"
#include "hf_reference.hpp"
#include "kiln/runtime.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::hf;

namespace {

constexpr double kMaxRelErr = 1e-4;
constexpr size_t kDecodeSteps = 4;

Tensor i64_row(const std::vector<int64_t>& v) {
    return Tensor::from_vector(v, {1, static_cast<int64_t>(v.size())});
}

// max |a - b| / max |b| over n values.
double rel_err(const float* a, const float* b, int64_t n) {
    double diff = 0, scale = 0;
    for (int64_t i = 0; i < n; ++i) {
        diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

fs::path folder_of(const std::string& name) { return fs::path(test::reference_root()) / name; }

bool has_reference(const std::string& name) {
    return fs::exists(folder_of(name) / "reference" / "reference.json");
}

#define SKIP_WITHOUT_REFERENCE(name)                      \
    if (!has_reference(name))                             \
    GTEST_SKIP() << "no reference in " << folder_of(name) \
                 << ": run tests/hf/make_reference.py (ctest runs it as hf_make_reference)"

void check_weights(const std::string& name) {
    SKIP_WITHOUT_REFERENCE(name);
    const SafetensorsWeights st(folder_of(name).string());
    const test::NpyWeights npy(folder_of(name));
    std::vector<std::string> npy_names = npy.names();
    std::sort(npy_names.begin(), npy_names.end());
    EXPECT_EQ(st.names(), npy_names);
    for (const std::string& tensor : st.names()) {
        const Tensor a = st.get(tensor), b = npy.get(tensor);
        ASSERT_EQ(a.shape(), b.shape()) << tensor;
        // npy has no bfloat16: the sidecar holds the values widened to f32.
        EXPECT_EQ(a.to_double_vector(), b.to_double_vector()) << tensor;
    }
}

void check_config(const std::string& name) {
    SKIP_WITHOUT_REFERENCE(name);
    const LlmConfig a = read_llm_config((folder_of(name) / "config.json").string());
    const LlmConfig b = test::read_config(folder_of(name));
    EXPECT_EQ(a.model_type, b.model_type);
    EXPECT_EQ(a.vocab_size, b.vocab_size);
    EXPECT_EQ(a.hidden_size, b.hidden_size);
    EXPECT_EQ(a.num_layers, b.num_layers);
    EXPECT_EQ(a.num_heads, b.num_heads);
    EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
    EXPECT_EQ(a.head_dim, b.head_dim);
    EXPECT_EQ(a.intermediate_size, b.intermediate_size);
    EXPECT_EQ(a.max_position_embeddings, b.max_position_embeddings);
    EXPECT_DOUBLE_EQ(a.norm_eps, b.norm_eps);
    EXPECT_EQ(a.hidden_act, b.hidden_act);
    EXPECT_DOUBLE_EQ(a.rope_theta, b.rope_theta);
    EXPECT_EQ(a.rope_scaling.type, b.rope_scaling.type);
    EXPECT_DOUBLE_EQ(a.rope_scaling.factor, b.rope_scaling.factor);
    EXPECT_EQ(a.tie_word_embeddings, b.tie_word_embeddings);
    // GPT-2's builder ignores the flag (every layer has biases); the reader says true.
    if (a.model_type != "gpt2") EXPECT_EQ(a.attention_bias, b.attention_bias);
    EXPECT_EQ(a.sliding_window, b.sliding_window);
}

void check_logits(const std::string& name) {
    SKIP_WITHOUT_REFERENCE(name);
    const fs::path ref_dir = folder_of(name) / "reference";
    const nlohmann::json ref = test::read_json(ref_dir / "reference.json");
    const Tensor prompt_logits = read_npy((ref_dir / "prompt_logits.npy").string());
    const Tensor greedy_logits = read_npy((ref_dir / "greedy_logits.npy").string());

    const Core core;
    const std::shared_ptr<Model> model = core.read_model(folder_of(name).string());
    const LlmConfig cfg = read_llm_config((folder_of(name) / "config.json").string());
    EXPECT_EQ(model->rt_info().at("model_type"), cfg.model_type);
    InferRequest req = core.compile_model(model, "CPU", hf::test::kExactKvCache).create_infer_request();

    std::vector<int64_t> seq = ref["prompt"].get<std::vector<int64_t>>();
    const auto greedy = ref["greedy"].get<std::vector<int64_t>>();
    const int64_t n = static_cast<int64_t>(seq.size()), vocab = cfg.vocab_size;
    std::vector<int64_t> positions;
    for (int64_t i = 0; i < n; ++i) positions.push_back(i);
    req.set_tensor("input_ids", i64_row(seq));
    req.set_tensor("attention_mask", i64_row(std::vector<int64_t>(seq.size(), 1)));
    req.set_tensor("position_ids", i64_row(positions));
    req.infer();
    Tensor logits = req.get_tensor("logits");
    ASSERT_EQ(logits.shape(), (Shape{1, n, vocab}));
    EXPECT_LE(rel_err(logits.data<float>(), prompt_logits.data<float>(), n * vocab), kMaxRelErr);

    // A few greedy steps from the KV state (dynamic RoPE references are single passes only).
    const size_t steps = name == "llama_dynamic" ? 0 : std::min(kDecodeSteps, greedy.size());
    for (size_t step = 0; step < steps; ++step) {
        const float* last = logits.data<float>() + (logits.shape()[1] - 1) * vocab;
        EXPECT_LE(rel_err(last, greedy_logits.data<float>() + step * vocab, vocab), kMaxRelErr)
            << "decode step " << step;
        const int64_t next = std::max_element(last, last + vocab) - last;
        ASSERT_EQ(next, greedy[step]) << "decode step " << step;
        seq.push_back(next);
        req.set_tensor("input_ids", i64_row({next}));
        req.set_tensor("attention_mask", i64_row(std::vector<int64_t>(seq.size(), 1)));
        req.set_tensor("position_ids", i64_row({static_cast<int64_t>(seq.size()) - 1}));
        req.infer();
        logits = req.get_tensor("logits");
    }
}

class HfFolderParity : public ::testing::TestWithParam<std::string> {};

TEST_P(HfFolderParity, SafetensorsHoldWhatPyTorchWrote) { check_weights(GetParam()); }
TEST_P(HfFolderParity, ConfigMatchesTheBuildersReading) { check_config(GetParam()); }
TEST_P(HfFolderParity, CoreReadModelMatchesPyTorch) { check_logits(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Reference, HfFolderParity,
                         ::testing::Values("gpt2", "llama", "qwen2", "mistral", "llama_dynamic"));

}  // namespace
