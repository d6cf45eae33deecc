// Weight compression of the Hugging Face reference models (tests/hf/make_reference.py): the
// layers each mode picks on real LLM graphs (tied and untied output projections), and the prompt
// logits of the compressed graph against PyTorch's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hf_reference.hpp"
#include "kiln/compress.hpp"
#include "kiln/runtime.hpp"

namespace fs = std::filesystem;
using namespace kiln;

namespace {

struct PromptCheck {
    double rel_err = 0;    // max |kiln - torch| / max |torch| over the prompt's logits
    double agreement = 0;  // share of prompt positions whose argmax is torch's
};

// Prefills the prompt; compares every position's logits with the reference.
PromptCheck check_prompt(const std::shared_ptr<Model>& model, const fs::path& folder) {
    const auto ref = hf::test::read_json(folder / "reference" / "reference.json");
    const Tensor want = read_npy((folder / "reference" / "prompt_logits.npy").string());
    const auto prompt = ref["prompt"].get<std::vector<int64_t>>();
    const int64_t n = static_cast<int64_t>(prompt.size()), vocab = want.shape().back();
    auto req = Core().compile_model(model, "CPU", hf::test::kExactKvCache).create_infer_request();
    std::vector<int64_t> pos(prompt.size());
    for (int64_t i = 0; i < n; ++i) pos[i] = i;
    req.set_tensor("input_ids", Tensor::from_vector(prompt, {1, n}));
    req.set_tensor("attention_mask", Tensor::from_vector(std::vector<int64_t>(n, 1), {1, n}));
    req.set_tensor("position_ids", Tensor::from_vector(pos, {1, n}));
    req.infer();
    const Tensor got = req.get_tensor("logits");
    EXPECT_EQ(got.size(), n * vocab);
    double diff = 0, scale = 0;
    int64_t same = 0;
    for (int64_t t = 0; t < n; ++t) {
        const float* a = got.data<float>() + t * vocab;
        const float* b = want.data<float>() + t * vocab;
        for (int64_t v = 0; v < vocab; ++v) {
            diff = std::max(diff, static_cast<double>(std::fabs(a[v] - b[v])));
            scale = std::max(scale, static_cast<double>(std::fabs(b[v])));
        }
        same += std::max_element(a, a + vocab) - a == std::max_element(b, b + vocab) - b;
    }
    return {diff / scale, static_cast<double>(same) / static_cast<double>(n)};
}

const CompressedLayer* find_layer(const WeightCompressionReport& r, const std::string& name) {
    for (const auto& l : r.layers)
        if (l.name == name) return &l;
    return nullptr;
}

void run_compression(const std::string& name, const char* embedding, const char* head) {
    const fs::path folder = fs::path(hf::test::reference_root()) / name;
    if (!fs::exists(folder / "reference" / "reference.json"))
        GTEST_SKIP() << "no reference folder " << folder << " (needs torch)";
    struct Case {
        CompressionMode mode;
        double max_rel_err, min_agreement;
    };
    // Small random models (hidden size 64, groups of 16): int8 stays within a few percent and
    // keeps every argmax; int4 moves the logits by ~20 %, too much for random logits' argmax.
    for (const Case c :
         {Case{CompressionMode::int8_asym, 0.05, 1.0}, Case{CompressionMode::int8_sym, 0.05, 1.0},
          Case{CompressionMode::int4_asym, 0.4, 0.0}, Case{CompressionMode::int4_sym, 0.4, 0.0}}) {
        SCOPED_TRACE(std::string(to_string(c.mode)));
        auto model = Core().read_model(folder.string());
        WeightCompressionConfig cfg;
        cfg.mode = c.mode;
        cfg.group_size = 16;
        const auto report = compress_weights(*model, cfg);
        const bool int4 =
            c.mode == CompressionMode::int4_asym || c.mode == CompressionMode::int4_sym;
        const CompressedLayer* e = find_layer(report, embedding);
        const CompressedLayer* h = find_layer(report, head);
        ASSERT_TRUE(e && h) << embedding << " / " << head;
        EXPECT_EQ(e->bits, 8);
        EXPECT_EQ(h->bits, 8);
        EXPECT_EQ(h->role, e == h ? "embedding+output" : "output");
        if (int4) {
            EXPECT_GT(report.share_4bit(), 0.5);
        }
        const PromptCheck p = check_prompt(model, folder);
        std::printf(
            "%-8s %-9s 4-bit %5.1f %%  %.2f bits/weight  prompt logits rel. error %.4f, "
            "argmax agreement %.0f %%\n",
            name.c_str(), std::string(to_string(c.mode)).c_str(), 100 * report.share_4bit(),
            report.bits_per_weight(), p.rel_err, 100 * p.agreement);
        EXPECT_LT(p.rel_err, c.max_rel_err);
        EXPECT_GE(p.agreement, c.min_agreement);
    }
}

TEST(HfCompress, Gpt2TiedHead) {
    run_compression("gpt2", "transformer.wte.weight", "transformer.wte.weight");
}
TEST(HfCompress, LlamaUntiedHead) {
    run_compression("llama", "model.embed_tokens.weight", "lm_head.weight");
}
TEST(HfCompress, Qwen2TiedBf16) {
    run_compression("qwen2", "model.embed_tokens.weight", "model.embed_tokens.weight");
}

}  // namespace
