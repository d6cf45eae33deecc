// The logits processors against values worked out by hand, and the sampling distributions
// they give with a fixed seed.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <limits>

#include "genai/llm/sampler.hpp"

using namespace kiln;
using namespace kiln::llm;
using Floats = std::vector<float>;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

Floats log_probs(const std::vector<double>& p) {
    Floats l;
    for (double v : p) l.push_back(static_cast<float>(std::log(v)));
    return l;
}

void expect_floats(const Floats& got, const Floats& expected) {
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::isinf(expected[i]))
            EXPECT_EQ(got[i], expected[i]) << "at " << i;
        else
            EXPECT_NEAR(got[i], expected[i], 1e-6) << "at " << i;
    }
}

/// How often `sampler_config` picks each token of `logits` over `draws` draws from one seed.
std::vector<double> frequencies(const Floats& logits, const GenerationConfig& config,
                                int draws = 40000) {
    std::vector<int> counts(logits.size(), 0);
    Sampler s(config, {});
    for (int i = 0; i < draws; ++i) {
        Floats l = logits;
        ++counts[s.next(l)];
    }
    std::vector<double> f;
    for (int n : counts) f.push_back(static_cast<double>(n) / draws);
    return f;
}

GenerationConfig sampling(float temperature = 1.0f) {
    GenerationConfig c;
    c.do_sample = true;
    c.temperature = temperature;
    c.seed = 1234;
    return c;
}

}  // namespace

TEST(LlmSampler, RepetitionPenaltyDividesPositiveAndMultipliesNegative) {
    Floats l = {2.f, -2.f, 1.f, 0.5f};
    apply_repetition_penalty(l, {1, 1, 0, 0}, 2.f);
    expect_floats(l, {1.f, -4.f, 1.f, 0.5f});
    l = {2.f, -2.f};
    apply_repetition_penalty(l, {1, 1}, 0.5f);  // < 1 favours repeats
    expect_floats(l, {4.f, -1.f});
}

TEST(LlmSampler, PresenceAndFrequencyPenalties) {
    Floats l = {1.f, 1.f, 1.f};
    apply_presence_frequency(l, {0, 1, 3}, 0.5f, 0.25f);
    // 1 - 1*0.25 - 0.5 and 1 - 3*0.25 - 0.5.
    expect_floats(l, {1.f, 0.25f, -0.25f});
    l = {1.f, 1.f};
    apply_presence_frequency(l, {0, 2}, -1.f, 0.f);
    expect_floats(l, {1.f, 2.f});
}

TEST(LlmSampler, Temperature) {
    Floats l = {2.f, -1.f, 0.f};
    apply_temperature(l, 0.5f);
    expect_floats(l, {4.f, -2.f, 0.f});
}

TEST(LlmSampler, TopKKeepsTiesWithTheKth) {
    Floats l = {1.f, 3.f, 2.f, 3.f, 0.f};
    apply_top_k(l, 2);
    expect_floats(l, {-kInf, 3.f, -kInf, 3.f, -kInf});
    l = {1.f, 2.f, 2.f, 0.f};
    apply_top_k(l, 2);
    expect_floats(l, {-kInf, 2.f, 2.f, -kInf});
    l = {1.f, 2.f, 2.f, 0.f};
    apply_top_k(l, 1);
    expect_floats(l, {-kInf, 2.f, 2.f, -kInf});
    l = {1.f, 2.f};
    apply_top_k(l, 5);  // k >= vocabulary: nothing removed
    expect_floats(l, {1.f, 2.f});
}

TEST(LlmSampler, TopPKeepsTheSmallestSetReachingP) {
    // Probabilities 0.5, 0.3, 0.15, 0.05 (in shuffled order).
    const Floats base = log_probs({0.15, 0.5, 0.05, 0.3});
    Floats l = base;
    apply_top_p(l, 0.75f);  // 0.5 < 0.75: 0.3 stays; 0.8 >= 0.75: 0.15 goes
    expect_floats(l, {-kInf, base[1], -kInf, base[3]});
    l = base;
    apply_top_p(l, 0.85f);
    expect_floats(l, {base[0], base[1], -kInf, base[3]});
    l = base;
    apply_top_p(l, 0.01f);  // at least the most probable
    expect_floats(l, {-kInf, base[1], -kInf, -kInf});
    l = base;
    apply_top_p(l, 1.f);
    expect_floats(l, base);
}

TEST(LlmSampler, MinPIsRelativeToTheLargestProbability) {
    const Floats base = log_probs({0.5, 0.3, 0.15, 0.05});
    Floats l = base;
    apply_min_p(l, 0.2f);  // threshold 0.1
    expect_floats(l, {base[0], base[1], base[2], -kInf});
    l = base;
    apply_min_p(l, 0.5f);  // threshold 0.25
    expect_floats(l, {base[0], base[1], -kInf, -kInf});
}

TEST(LlmSampler, ArgmaxAndSoftmax) {
    EXPECT_EQ(argmax(Floats{1.f, 3.f, 3.f, 2.f}), 1);
    // Past the 16-lane blocks, ties, NaNs and -inf: the first largest number.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (size_t n : {1u, 15u, 16u, 17u, 50257u}) {
        Floats v(n);
        for (size_t i = 0; i < n; ++i) v[i] = std::sin(static_cast<float>(i));
        const int64_t want = std::max_element(v.begin(), v.end()) - v.begin();
        EXPECT_EQ(argmax(v), want) << n;
        v[0] = nan;
        if (n > 1) EXPECT_EQ(argmax(v), std::max_element(v.begin() + 1, v.end()) - v.begin()) << n;
        v[n - 1] = 2.f;
        EXPECT_EQ(argmax(v), static_cast<int64_t>(n > 1 ? n - 1 : 0)) << n;
    }
    EXPECT_EQ(argmax(Floats{-kInf, nan, -kInf}), 0);
    EXPECT_EQ(argmax(Floats{nan, nan}), 0);
    const auto p = softmax(Floats{0.f, std::log(3.f), -kInf});
    EXPECT_NEAR(p[0], 0.25, 1e-7);
    EXPECT_NEAR(p[1], 0.75, 1e-7);
    EXPECT_EQ(p[2], 0.0);
    EXPECT_EQ(softmax(Floats{-kInf, -kInf}), (std::vector<double>{1.0, 0.0}));
}

TEST(LlmSampler, GreedyAppliesThePenalties) {
    GenerationConfig c;
    c.repetition_penalty = 1.5f;
    Sampler s(c, {0});
    Floats l = {3.f, 2.9f};  // 3 / 1.5 = 2 < 2.9
    EXPECT_EQ(s.next(l), 1);

    GenerationConfig f;
    f.frequency_penalty = 1.f;
    Sampler g(f, {0});  // the prompt does not count for OpenAI penalties
    l = {3.f, 2.5f};
    EXPECT_EQ(g.next(l), 0);
    g.accept(0);
    l = {3.f, 2.5f};
    EXPECT_EQ(g.next(l), 1);  // 3 - 1 = 2 < 2.5
}

TEST(LlmSampler, MinNewTokensSuppressesEosAndStopTokens) {
    GenerationConfig c;
    c.min_new_tokens = 2;
    c.eos_token_ids = {0};
    c.stop_token_ids = {1};
    Sampler s(c, {});
    for (int i = 0; i < 2; ++i) {
        Floats l = {5.f, 4.f, 1.f};
        EXPECT_EQ(s.next(l), 2);
        s.accept(2);
    }
    Floats l = {5.f, 4.f, 1.f};
    EXPECT_EQ(s.next(l), 0);
}

TEST(LlmSampler, SamplingFollowsTheDistribution) {
    const Floats l = log_probs({0.5, 0.3, 0.2});
    const auto f = frequencies(l, sampling());
    // 40000 draws: a standard deviation below 0.0025 for each frequency.
    EXPECT_NEAR(f[0], 0.5, 0.015);
    EXPECT_NEAR(f[1], 0.3, 0.015);
    EXPECT_NEAR(f[2], 0.2, 0.015);

    // Temperature 2: probabilities proportional to sqrt(p).
    const auto t = frequencies(l, sampling(2.f));
    const double z = std::sqrt(0.5) + std::sqrt(0.3) + std::sqrt(0.2);
    EXPECT_NEAR(t[0], std::sqrt(0.5) / z, 0.015);
    EXPECT_NEAR(t[1], std::sqrt(0.3) / z, 0.015);
    EXPECT_NEAR(t[2], std::sqrt(0.2) / z, 0.015);
}

TEST(LlmSampler, WarpersRenormalizeWhatTheyKeep) {
    const Floats l = log_probs({0.5, 0.3, 0.15, 0.05});
    GenerationConfig k = sampling();
    k.top_k = 2;
    auto f = frequencies(l, k);
    EXPECT_NEAR(f[0], 0.625, 0.015);
    EXPECT_NEAR(f[1], 0.375, 0.015);
    EXPECT_EQ(f[2] + f[3], 0.0);

    GenerationConfig p = sampling();
    p.top_p = 0.85f;
    f = frequencies(l, p);
    EXPECT_NEAR(f[0], 0.5 / 0.95, 0.015);
    EXPECT_NEAR(f[2], 0.15 / 0.95, 0.015);
    EXPECT_EQ(f[3], 0.0);

    GenerationConfig m = sampling();
    m.min_p = 0.5f;
    f = frequencies(l, m);
    EXPECT_NEAR(f[0], 0.625, 0.015);
    EXPECT_EQ(f[2] + f[3], 0.0);
}

TEST(LlmSampler, TemperatureComesBeforeTopP) {
    const Floats l = log_probs({0.5, 0.3, 0.2});
    GenerationConfig c = sampling();
    c.top_p = 0.5f;  // at temperature 1 only the first token stays
    EXPECT_EQ(frequencies(l, c, 2000)[0], 1.0);
    c.temperature = 100.f;  // nearly uniform: the first two stay
    const auto f = frequencies(l, c);
    EXPECT_NEAR(f[0], 0.5, 0.015);
    EXPECT_NEAR(f[1], 0.5, 0.015);
    EXPECT_EQ(f[2], 0.0);
}

TEST(LlmSampler, ASeedGivesTheSameDraws) {
    const Floats l = log_probs({0.25, 0.25, 0.25, 0.25});
    auto draws = [&](uint64_t seed) {
        GenerationConfig c = sampling();
        c.seed = seed;
        Sampler s(c, {});
        std::vector<int64_t> out;
        for (int i = 0; i < 64; ++i) {
            Floats x = l;
            out.push_back(s.next(x));
        }
        return out;
    };
    EXPECT_EQ(draws(5), draws(5));
    EXPECT_NE(draws(5), draws(6));
    // The generator is std::mt19937_64 and the draw its top 53 bits: fixed across platforms.
    std::mt19937_64 rng(5);
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    EXPECT_EQ(draws(5)[0], static_cast<int64_t>(u * 4));
}
