// The Hugging Face graph builders against PyTorch (tests/hf/make_reference.py): each folder
// read by Core::read_model (config.json and safetensors through Kiln's reader, then the
// builder), compiled for the CPU device, prefills a prompt and decodes one token per step from its
// KV state; its logits must match the cache-free reference within 1e-4 (max |diff| / max |ref|)
// and its 64-token greedy continuation must be the reference's, token for token. A left-padded
// batch of two prompts checks the padding mask and padding-aware positions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "hf_reference.hpp"
#include "kiln/runtime.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using namespace kiln::hf;

namespace {

constexpr double kMaxRelErr = 1e-4;

struct Reference {
    fs::path folder;
    LlmConfig config;
    nlohmann::json ref;
    Tensor prompt_logits, greedy_logits, batch_logits;
};

bool load(const std::string& name, Reference* r) {
    r->folder = fs::path(test::reference_root()) / name;
    const fs::path dir = r->folder / "reference";
    if (!fs::exists(dir / "reference.json")) return false;
    r->config = test::read_config(r->folder);
    r->ref = test::read_json(dir / "reference.json");
    r->prompt_logits = read_npy((dir / "prompt_logits.npy").string());
    r->greedy_logits = read_npy((dir / "greedy_logits.npy").string());
    r->batch_logits = read_npy((dir / "batch_logits.npy").string());
    return true;
}

Tensor i64_matrix(const std::vector<std::vector<int64_t>>& rows) {
    const int64_t b = static_cast<int64_t>(rows.size()), n = static_cast<int64_t>(rows[0].size());
    Tensor t(ElementType::i64, {b, n});
    for (int64_t i = 0; i < b; ++i)
        for (int64_t j = 0; j < n; ++j) t.data<int64_t>()[i * n + j] = rows[i][j];
    return t;
}

// Max |a - b| over the rows both have, and max |b|, accumulated over calls.
struct RelErr {
    double diff = 0, scale = 0;
    void add(const float* a, const float* b, int64_t n) {
        for (int64_t i = 0; i < n; ++i) {
            diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
            scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
        }
    }
    double value() const { return scale > 0 ? diff / scale : diff; }
};

int64_t argmax(const float* v, int64_t n) { return std::max_element(v, v + n) - v; }

class Session {
public:
    Session(const std::shared_ptr<Model>& model)
        : compiled_(Core().compile_model(model, "CPU", hf::test::kExactKvCache)) {
        req_ = compiled_.create_infer_request();
    }
    Tensor step(const std::vector<std::vector<int64_t>>& ids,
                const std::vector<std::vector<int64_t>>& mask,
                const std::vector<std::vector<int64_t>>& pos) {
        req_.set_tensor("input_ids", i64_matrix(ids));
        req_.set_tensor("attention_mask", i64_matrix(mask));
        req_.set_tensor("position_ids", i64_matrix(pos));
        req_.infer();
        return req_.get_tensor("logits");
    }
    void reset() { req_.reset_state(); }
    const CompiledModel& compiled() const { return compiled_; }

private:
    CompiledModel compiled_;
    InferRequest req_;
};

// Prefill + 63 decode steps of the prompt; returns the max relative error of all logits.
double check_greedy(Session& s, const Reference& r) {
    const int64_t vocab = r.config.vocab_size;
    std::vector<int64_t> seq = r.ref["prompt"].get<std::vector<int64_t>>();
    const int64_t n = static_cast<int64_t>(seq.size());
    std::vector<int64_t> positions(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) positions[i] = i;
    const auto expected = r.ref["greedy"].get<std::vector<int64_t>>();
    RelErr prefill, decode;
    Tensor logits = s.step({seq}, {std::vector<int64_t>(n, 1)}, {positions});
    EXPECT_EQ(logits.shape(), (Shape{1, n, vocab}));
    prefill.add(logits.data<float>(), r.prompt_logits.data<float>(), n * vocab);
    std::vector<int64_t> got;
    for (size_t step = 0; step < expected.size(); ++step) {
        const float* last = logits.data<float>() + (logits.shape()[1] - 1) * vocab;
        decode.add(last, r.greedy_logits.data<float>() + step * vocab, vocab);
        got.push_back(argmax(last, vocab));
        seq.push_back(got.back());
        const int64_t len = static_cast<int64_t>(seq.size());
        if (step + 1 < expected.size())
            logits = s.step({{got.back()}}, {std::vector<int64_t>(len, 1)}, {{len - 1}});
    }
    EXPECT_EQ(got, expected) << "greedy continuation differs";
    EXPECT_LE(prefill.value(), kMaxRelErr) << "prompt logits";
    EXPECT_LE(decode.value(), kMaxRelErr) << "decode-step logits";
    return std::max(prefill.value(), decode.value());
}

// The left-padded batch: prefill logits at real tokens, then a few greedy steps per row.
double check_batch(Session& s, const Reference& r) {
    const int64_t vocab = r.config.vocab_size;
    auto ids = r.ref["batch_input_ids"].get<std::vector<std::vector<int64_t>>>();
    auto mask = r.ref["batch_attention_mask"].get<std::vector<std::vector<int64_t>>>();
    auto pos = r.ref["batch_position_ids"].get<std::vector<std::vector<int64_t>>>();
    const auto expected = r.ref["batch_greedy"].get<std::vector<std::vector<int64_t>>>();
    const int64_t n = static_cast<int64_t>(ids[0].size());
    RelErr err;
    Tensor logits = s.step(ids, mask, pos);
    const float* all = logits.data<float>();
    EXPECT_TRUE(std::all_of(all, all + logits.size(), [](float x) { return std::isfinite(x); }))
        << "padding rows must stay finite";
    for (size_t b = 0; b < ids.size(); ++b)
        for (int64_t t = 0; t < n; ++t)
            if (mask[b][t])
                err.add(logits.data<float>() + (b * n + t) * vocab,
                        r.batch_logits.data<float>() + (b * n + t) * vocab, vocab);
    std::vector<std::vector<int64_t>> got(ids.size());
    const size_t steps = expected.empty() ? 0 : expected[0].size();
    for (size_t step = 0; step < steps; ++step) {
        const int64_t len = logits.shape()[1];
        std::vector<std::vector<int64_t>> next(ids.size()), next_pos(ids.size());
        for (size_t b = 0; b < ids.size(); ++b) {
            got[b].push_back(argmax(logits.data<float>() + (b * len + len - 1) * vocab, vocab));
            next[b] = {got[b].back()};
            next_pos[b] = {pos[b].back() + 1};
            mask[b].push_back(1);
        }
        pos = next_pos;
        logits = s.step(next, mask, pos);
    }
    if (steps) EXPECT_EQ(got, expected) << "batch greedy continuation differs";
    EXPECT_LE(err.value(), kMaxRelErr) << "batch prompt logits";
    return err.value();
}

void run_parity(const std::string& name) {
    Reference r;
    if (!load(name, &r))
        GTEST_SKIP() << "no reference in " << r.folder
                     << ": run tests/hf/make_reference.py (ctest runs it as hf_make_reference)";
    auto model = Core().read_model(r.folder.string());
    ASSERT_EQ(model->rt_info().at("model_type"), r.config.model_type);
    Session s(model);
    const double greedy = check_greedy(s, r);
    s.reset();
    const double batch = check_batch(s, r);
    s.reset();
    const double again = check_greedy(s, r);  // reset_state starts a clean sequence
    EXPECT_EQ(again, greedy);
    std::printf("[ parity ] %s: max rel err greedy %.2e, batch %.2e\n", name.c_str(), greedy,
                batch);
}

}  // namespace

TEST(HfParity, Gpt2) { run_parity("gpt2"); }
TEST(HfParity, LlamaGqaLlama3Rope) { run_parity("llama"); }
TEST(HfParity, Qwen2Bf16) { run_parity("qwen2"); }
TEST(HfParity, MistralSlidingWindowF16) { run_parity("mistral"); }
// Dynamic NTK scaling past a context of 8, on single forward passes (see make_reference.py).
TEST(HfParity, LlamaDynamicRopePrefill) { run_parity("llama_dynamic"); }
