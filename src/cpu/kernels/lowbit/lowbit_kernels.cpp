#include "cpu/kernels/lowbit/lowbit_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/kernels/gemm/gemm.hpp"

namespace kiln::cpu::lowbit {

bool isa_supported(Isa isa) {
    if (isa == Isa::scalar) return true;
    if (isa == Isa::avx2) return gemm::isa_supported(gemm::Isa::avx2);
    return gemm::isa_supported(gemm::Isa::avx512) && __builtin_cpu_supports("avx512vnni");
}

Isa best_isa() {
    static const Isa isa = [] {
        const gemm::Isa g = gemm::best_isa();
        if (g >= gemm::Isa::avx512 && isa_supported(Isa::avx512_vnni)) return Isa::avx512_vnni;
        if (g >= gemm::Isa::avx2) return Isa::avx2;
        return Isa::scalar;
    }();
    return isa;
}

const char* isa_name(Isa isa) {
    return isa == Isa::avx512_vnni ? "avx512_vnni" : isa == Isa::avx2 ? "avx2" : "scalar";
}

const Kernels& kernels(Isa isa) {
    switch (isa) {
        case Isa::avx512_vnni: return detail::avx512_vnni_kernels();
        case Isa::avx2: return detail::avx2_kernels();
        default: return detail::scalar_kernels();
    }
}

namespace {

void quantize_row_scalar(const float* x, const PackedWeights& w, QuantizedRows& a, int64_t r) {
    int8_t* q = a.q(r);
    float* scales = a.scales(r);
    float* csum = a.csum(r);
    const int64_t gs = w.group_size(), gp = w.padded_group();
    for (int64_t g = 0; g < w.groups(); ++g) {
        float c = 0.f;
        for (int64_t b = 0; b < gp / kBlock; ++b) {
            const float* src = x + g * gs + b * kBlock;
            int8_t* dst = q + g * gp + b * kBlock;
            const int64_t len = std::clamp<int64_t>(gs - b * kBlock, 0, kBlock);
            float amax = 0.f;
            for (int64_t j = 0; j < len; ++j) amax = std::max(amax, std::fabs(src[j]));
            const float inv = amax > 0.f ? 127.f / amax : 0.f;
            int32_t sum = 0;
            for (int64_t j = 0; j < kBlock; ++j) {
                const int32_t v =
                    j < len ? static_cast<int32_t>(std::nearbyint(src[j] * inv)) : 0;
                dst[j] = static_cast<int8_t>(std::clamp(v, -127, 127));
                sum += dst[j];
            }
            const float scale = amax / 127.f;
            scales[g * (gp / kBlock) + b] = scale;
            c = std::fma(scale, static_cast<float>(sum), c);
        }
        csum[g] = c;
    }
}

int32_t packed_weight(const PackedWeights& w, const uint8_t* group, int64_t c, int64_t j) {
    if (!w.four_bit()) return group[(j / 4) * 64 + c * 4 + j % 4];
    const int64_t in = j % 8;
    return (group[(j / 8) * 64 + c * 4 + in % 4] >> (in >= 4 ? 4 : 0)) & 0xF;
}

void gemm_scalar(const PackedWeights& w, const QuantizedRows& a, int64_t r0, int64_t m,
                 int64_t p0, int64_t p1, const float* bias, float* y, int64_t ldy) {
    const int64_t gp = w.padded_group(), blocks = gp / kBlock;
    for (int64_t r = r0; r < r0 + m; ++r)
        for (int64_t p = p0; p < p1; ++p)
            for (int64_t c = 0; c < kPanel && p * kPanel + c < w.n(); ++c) {
                float out = 0.f;
                for (int64_t g = 0; g < w.groups(); ++g) {
                    const uint8_t* group = w.panel(p) + g * w.group_stride();
                    const int8_t* q = a.q(r) + g * gp;
                    float accg = 0.f;
                    for (int64_t b = 0; b < blocks; ++b) {
                        int32_t acc = 0;
                        for (int64_t j = b * kBlock; j < (b + 1) * kBlock; ++j)
                            acc += packed_weight(w, group, c, j) * q[j];
                        accg = std::fma(static_cast<float>(acc), a.scales(r)[g * blocks + b], accg);
                    }
                    const auto* sc = reinterpret_cast<const float*>(group + w.group_weight_bytes());
                    const float z = w.has_zero_point() ? sc[kPanel + c] : w.zero_offset();
                    const float corrected = std::fma(-z, a.csum(r)[g], accg);
                    out = std::fma(sc[c], corrected, out);
                }
                const int64_t col = p * kPanel + c;
                y[r * ldy + col] = bias ? out + bias[col] : out;
            }
}

}  // namespace

namespace detail {
const Kernels& scalar_kernels() {
    static const Kernels k{quantize_row_scalar, gemm_scalar};
    return k;
}
}  // namespace detail

}  // namespace kiln::cpu::lowbit
