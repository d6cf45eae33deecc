#pragma once
// Attention for a few query rows (LLM decode: one new token per sequence) without packing K and
// V: the scores are dot products of the query with each cached key, and the output a weighted
// sum of the cached values, both read straight from the cache, once.
#include <cstdint>

namespace kiln::cpu::attention {

/// scores[j] = q . k[j] for j < s; k rows are e floats apart.
void dot_rows_scalar(const float* q, const float* k, int64_t s, int64_t e, float* scores);
void dot_rows_avx512(const float* q, const float* k, int64_t s, int64_t e, float* scores);
/// y[c] = sum_j p[j] * v[j][c] for c < ev; v rows are ev floats apart.
void weighted_rows_scalar(const float* p, const float* v, int64_t s, int64_t ev, float* y);
void weighted_rows_avx512(const float* p, const float* v, int64_t s, int64_t ev, float* y);

/// The same over a cache kept in f16 (KV_CACHE_PRECISION f16): k and v hold IEEE half bits.
void dot_rows_f16_scalar(const float* q, const uint16_t* k, int64_t s, int64_t e, float* scores);
void dot_rows_f16_avx512(const float* q, const uint16_t* k, int64_t s, int64_t e, float* scores);
void weighted_rows_f16_scalar(const float* p, const uint16_t* v, int64_t s, int64_t ev, float* y);
void weighted_rows_f16_avx512(const float* p, const uint16_t* v, int64_t s, int64_t ev, float* y);

}  // namespace kiln::cpu::attention
