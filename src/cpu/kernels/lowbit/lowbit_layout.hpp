#pragma once
// The CPU layouts of compressed linear layers (FullyConnectedCompressed): the weights repacked
// once at compile time for streaming, and the activation rows quantized to int8 per call.
//
// Weights: panels of 16 output channels, one after another, each panel holding its K groups in
// order, each group as its weights then 16 f32 scales and, with a zero point, 16 f32 zero points
// (symmetric weights have none: 6% fewer bytes per token at int4 group 128), so a thread streams
// one contiguous run of memory. Weights are stored unsigned (u = q + 128 for i8, q + 8
// for i4; the zero points shift alike), which lets AVX512-VNNI multiply them (u8) with signed
// int8 activations; each group is padded to a multiple of 32 along K (activations there are 0).
//   8-bit: per 4 k, 64 bytes: channel c's 4 bytes at 4c.
//   4-bit: per 8 k, 64 bytes: channel c's 4 bytes at 4c, byte j = u[k+j] | u[k+4+j] << 4.
//
// Activations: each row in blocks of 32 along the padded K, symmetric int8 with one f32 scale
// per block, and per group sum_b(scale_b * sum(q in b)) for the zero-point correction:
//   y[n] = sum_g s[n,g] * (sum_b scale_b * dot_b(u, q) - z[n,g] * csum_g).
#include <cstdint>
#include <memory>
#include <vector>

#include "cpu/shared_packs.hpp"
#include "kiln/node.hpp"
#include "kiln/tensor.hpp"

namespace kiln::cpu::lowbit {

constexpr int64_t kPanel = 16;  // output channels per panel (one zmm of int32 accumulators)
constexpr int64_t kBlock = 32;  // activation quantization block along K

class PackedWeights {
public:
    /// Repacks W (i8/u8 [N, K] or i4/u4 [N, G, g]) with its scale and optional zero point.
    PackedWeights(const Tensor& w, const Tensor& scale, const Tensor* zero_point);

    int64_t n() const { return n_; }
    int64_t k() const { return k_; }
    int64_t groups() const { return groups_; }
    int64_t group_size() const { return group_size_; }
    /// Group length along K after padding (a multiple of kBlock).
    int64_t padded_group() const { return padded_group_; }
    int64_t padded_k() const { return groups_ * padded_group_; }
    bool four_bit() const { return four_bit_; }
    int64_t panels() const { return (n_ + kPanel - 1) / kPanel; }
    /// Bytes of one group's weights in a panel, and from one group to the next.
    int64_t group_weight_bytes() const { return padded_group_ * kPanel / (four_bit_ ? 2 : 1); }
    int64_t group_stride() const {
        return group_weight_bytes() + (has_zero_point_ ? 2 : 1) * kPanel * 4;
    }
    /// Whether each group stores zero points after its scales; else every zero point is
    /// zero_offset() (the shift to unsigned values).
    bool has_zero_point() const { return has_zero_point_; }
    float zero_offset() const { return zero_offset_; }
    const uint8_t* panel(int64_t p) const { return data_.get() + p * groups_ * group_stride(); }
    /// Bytes of the low-bit weights as stored in the model (what a token streams).
    int64_t model_bytes() const { return n_ * k_ / (four_bit_ ? 2 : 1); }
    /// Row r of the dequantized weights, K floats (an embedding lookup on the same pack as the
    /// output projection of a tied model).
    void dequantize_row(int64_t r, float* out) const;

    /// Whether inputs `w`, `scale` and (when the node has it) `zero_point` of `node` are constants
    /// this layout can pack: low-bit weights with f32 scales of matching shapes.
    static bool packable(const Node& node, size_t w, size_t scale, size_t zero_point);
    /// The pack of a compiled model's constants W, scale and zero point, shared between the
    /// kernels that read them when `shared` is given (a tied embedding and output projection).
    static std::shared_ptr<const PackedWeights> shared(SharedPacks* shared, const Node& node,
                                                       size_t w, size_t scale, size_t zero_point);

private:
    struct Free {
        size_t bytes;  // as allocated: free_streamed_memory needs it
        void operator()(uint8_t* p) const;
    };
    std::unique_ptr<uint8_t[], Free> data_;
    int64_t n_ = 0, k_ = 0, groups_ = 1, group_size_ = 0, padded_group_ = 0;
    bool four_bit_ = false;
    bool has_zero_point_ = false;
    float zero_offset_ = 0.f;
};

/// Quantized activation rows for one product, reused across calls (grown, never shrunk).
class QuantizedRows {
public:
    /// Makes room for `rows` rows of `w`'s padded K.
    void reset(const PackedWeights& w, int64_t rows);
    int8_t* q(int64_t r) { return q_.data() + r * padded_k_; }
    const int8_t* q(int64_t r) const { return q_.data() + r * padded_k_; }
    float* scales(int64_t r) { return scales_.data() + r * blocks_; }
    const float* scales(int64_t r) const { return scales_.data() + r * blocks_; }
    float* csum(int64_t r) { return csum_.data() + r * groups_; }
    const float* csum(int64_t r) const { return csum_.data() + r * groups_; }

private:
    std::vector<int8_t> q_;
    std::vector<float> scales_, csum_;
    int64_t padded_k_ = 0, blocks_ = 0, groups_ = 0;
};

}  // namespace kiln::cpu::lowbit
