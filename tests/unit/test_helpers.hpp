#pragma once
// Helpers the unit tests share: deterministic random tensors (the same seed gives the same
// values everywhere) and graph inspection.
#include <random>

#include "kiln/model.hpp"
#include "kiln/tensor.hpp"

namespace kiln::test_data {

/// f32 values uniform in [lo, hi).
inline Tensor random_f32(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
    Tensor t(ElementType::f32, std::move(shape));
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = dist(gen);
    return t;
}

/// How many nodes of `type` the model runs.
inline size_t count_type(const Model& m, const std::string& type) {
    size_t n = 0;
    for (const auto& node : m.ordered_ops()) n += node->type() == type;
    return n;
}

}  // namespace kiln::test_data
