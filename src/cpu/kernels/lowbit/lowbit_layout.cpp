#include "cpu/kernels/lowbit/lowbit_layout.hpp"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/tensor_allocator.hpp"
#include "ops/nn/compressed_weights.hpp"

namespace kiln::cpu::lowbit {

void PackedWeights::Free::operator()(uint8_t* p) const { free_streamed_memory(p, bytes); }

PackedWeights::PackedWeights(const Tensor& w, const Tensor& scale, const Tensor* zero_point) {
    const nn::LowBitLayout l = nn::lowbit_layout(w.shape(), scale.shape());
    n_ = l.n;
    k_ = l.k;
    groups_ = l.groups;
    group_size_ = l.group_size;
    padded_group_ = (group_size_ + kBlock - 1) / kBlock * kBlock;
    const ElementType t = w.element_type();
    four_bit_ = t == ElementType::i4 || t == ElementType::u4;
    const int offset = t == ElementType::i8 ? 128 : t == ElementType::i4 ? 8 : 0;
    has_zero_point_ = zero_point != nullptr;
    zero_offset_ = static_cast<float>(offset);

    const size_t bytes = static_cast<size_t>(std::max<int64_t>(panels() * groups_ * group_stride(), 64));
    // Streamed once per token at decode: its own huge-page mapping when large.
    const size_t rounded = (bytes + 63) / 64 * 64;
    auto* raw = static_cast<uint8_t*>(allocate_streamed_memory(rounded));
    if (!raw) throw std::bad_alloc();
    data_ = std::unique_ptr<uint8_t[], Free>(raw, Free{rounded});
    std::memset(raw, 0, bytes);

    const float* s = scale.data<float>();
    for (int64_t p = 0; p < panels(); ++p)
        for (int64_t g = 0; g < groups_; ++g) {
            uint8_t* dst = raw + (p * groups_ + g) * group_stride();
            auto* sc = reinterpret_cast<float*>(dst + group_weight_bytes());
            float* zp = sc + kPanel;
            for (int64_t c = 0; c < kPanel; ++c) {
                const int64_t row = p * kPanel + c;
                if (row >= n_) break;  // padding channels stay zero
                sc[c] = s[row * groups_ + g];
                if (has_zero_point_)
                    zp[c] = nn::lowbit_zero_point(zero_point, l, row, g) + zero_offset_;
                const int64_t base = row * k_ + g * group_size_;
                for (int64_t j = 0; j < group_size_; ++j) {
                    const auto u = static_cast<uint8_t>(nn::lowbit_at(w, base + j) + offset);
                    if (!four_bit_) {
                        dst[(j / 4) * 64 + c * 4 + j % 4] = u;
                    } else {
                        const int64_t oct = j / 8, in = j % 8;
                        dst[oct * 64 + c * 4 + in % 4] |= static_cast<uint8_t>(u << (in >= 4 ? 4 : 0));
                    }
                }
            }
        }
}

void PackedWeights::dequantize_row(int64_t r, float* out) const {
    const int64_t c = r % kPanel;
    const uint8_t* base = panel(r / kPanel);
    for (int64_t g = 0; g < groups_; ++g) {
        const uint8_t* wb = base + g * group_stride();
        const auto* sc = reinterpret_cast<const float*>(wb + group_weight_bytes());
        const float z = has_zero_point_ ? sc[kPanel + c] : zero_offset_;
        float* dst = out + g * group_size_;
        for (int64_t j = 0; j < group_size_; ++j) {
            int u;
            if (!four_bit_) {
                u = wb[(j / 4) * 64 + c * 4 + j % 4];
            } else {
                const int64_t oct = j / 8, in = j % 8;
                u = (wb[oct * 64 + c * 4 + in % 4] >> (in >= 4 ? 4 : 0)) & 0xF;
            }
            dst[j] = sc[c] * (static_cast<float>(u) - z);
        }
    }
}

bool PackedWeights::packable(const Node& node, size_t w, size_t scale, size_t zero_point) {
    const Tensor* wt = node.input_constant(w);
    const Tensor* st = node.input_constant(scale);
    const bool has_zp = node.input_count() > zero_point;
    const Tensor* zp = has_zp ? node.input_constant(zero_point) : nullptr;
    if (!wt || !st || (has_zp && !zp) || st->element_type() != ElementType::f32) return false;
    const Shape zs = zp ? zp->shape() : Shape{};
    return nn::describe_lowbit_mismatch(wt->shape(), wt->element_type(), st->shape(),
                                        zp ? &zs : nullptr)
        .empty();
}

std::shared_ptr<const PackedWeights> PackedWeights::shared(SharedPacks* shared, const Node& node,
                                                           size_t w, size_t scale,
                                                           size_t zero_point) {
    const Tensor* zp = node.input_count() > zero_point ? node.input_constant(zero_point) : nullptr;
    auto make = [&]() -> std::shared_ptr<const PackedWeights> {
        return std::make_shared<const PackedWeights>(*node.input_constant(w),
                                                     *node.input_constant(scale), zp);
    };
    if (!shared) return make();
    std::vector<const Node*> sources = {node.input(w).node.get(), node.input(scale).node.get()};
    if (zp) sources.push_back(node.input(zero_point).node.get());
    return shared->get<PackedWeights>("lowbit", std::move(sources), make);
}

void QuantizedRows::reset(const PackedWeights& w, int64_t rows) {
    padded_k_ = w.padded_k();
    blocks_ = padded_k_ / kBlock;
    groups_ = w.groups();
    q_.resize(static_cast<size_t>(rows * padded_k_));  // the quantizers write the padding too
    scales_.resize(static_cast<size_t>(rows * blocks_));
    csum_.resize(static_cast<size_t>(rows * groups_));
}

}  // namespace kiln::cpu::lowbit
