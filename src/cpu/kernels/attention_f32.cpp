#include "cpu/kernels/attention_f32.hpp"

#include <cmath>
#include <cstring>
#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "cpu/kernels/attention/decode_rows.hpp"
#include "cpu/kernels/attention/softmax_row.hpp"
#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "cpu/kernels/gemm/gemm.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln::cpu {
namespace {

Shape batch_of(const Shape& s) { return Shape(s.begin(), s.end() - 2); }

// Linear index of each output matrix's operand matrix under numpy broadcasting.
std::vector<int64_t> broadcast_index(const Shape& batch, const Shape& operand) {
    std::vector<int64_t> idx(static_cast<size_t>(shape_size(batch)));
    for_each_broadcast<1>(batch, {operand}, [&](int64_t i, const auto& off) { idx[i] = off[0]; });
    return idx;
}

// Attention over K and V given as pointers with the distance between consecutive [S, E]
// matrices, so a cache with spare capacity between heads is read where it lies.
struct Operand {
    const void* data;        // f32, or IEEE half bits when f16
    Shape shape;             // logical [..., S, E]
    int64_t matrix_stride;   // elements from one matrix to the next
    bool f16 = false;

    const float* f32_matrix(int64_t m) const { return static_cast<const float*>(data) + m * matrix_stride; }
    const uint16_t* f16_matrix(int64_t m) const {
        return static_cast<const uint16_t*>(data) + m * matrix_stride;
    }
    // Matrix m as f32: in place, or widened into `scratch` from an f16 cache.
    const float* widened(int64_t m, int64_t elements, std::vector<float>& scratch) const {
        if (!f16) return f32_matrix(m);
        scratch.resize(static_cast<size_t>(elements));
        ew::ew_kernels().convert(ew::ConvertOp::f16_to_f32, f16_matrix(m), scratch.data(),
                                 static_cast<size_t>(elements));
        return scratch.data();
    }
};

struct AttentionSetup {
    bool causal;
    gemm::Isa isa;
    void (*softmax)(float*, int64_t, int64_t, const attention::SoftmaxRow&);
    void (*dot_rows)(const float*, const float*, int64_t, int64_t, float*);
    void (*weighted_rows)(const float*, const float*, int64_t, int64_t, float*);
    void (*dot_rows_f16)(const float*, const uint16_t*, int64_t, int64_t, float*);
    void (*weighted_rows_f16)(const float*, const uint16_t*, int64_t, int64_t, float*);
    std::string context;
};

// Up to this many query rows per matrix (a decode step; with grouped-query attention, one row
// per query head of the group), dot products straight from K and V beat packing them for the
// GEMM, which would copy the whole cache every step.
constexpr int64_t kDirectRows = 16;

Tensor attend(const AttentionSetup& a, const Tensor& q, const Operand& k, const Operand& v,
              const Tensor* mask_in, const Tensor* scale_in, ExecContext& ctx) {
    KILN_CHECK(q.rank() >= 2 && k.shape.size() >= 2 && v.shape.size() >= 2, a.context,
               " query, key and value must be at least 2-D");
    const int64_t l = q.shape()[q.rank() - 2], e = q.shape().back();
    const int64_t s = k.shape[k.shape.size() - 2], ev = v.shape.back();
    KILN_CHECK(k.shape.back() == e && v.shape[v.shape.size() - 2] == s, a.context, " query ",
               to_string(q.shape()), ", key ", to_string(k.shape), " and value ",
               to_string(v.shape), " do not fit together");
    const Shape batch =
        broadcast_static(broadcast_static(batch_of(q.shape()), batch_of(k.shape)), batch_of(v.shape));
    Shape out_shape = batch;
    out_shape.push_back(l);
    out_shape.push_back(ev);
    Tensor y(ElementType::f32, out_shape);
    const int64_t count = shape_size(batch);
    const float scale = scale_in ? static_cast<float>(scale_in->value_as_double(0))
                                 : 1.f / std::sqrt(static_cast<float>(e));
    // The mask as f32 with its strides over the [batch..., L, S] scores.
    Tensor mask;
    std::vector<int64_t> mask_strides;
    if (mask_in && !a.causal) {
        const Tensor& m = *mask_in;
        if (m.element_type() == ElementType::boolean) {
            mask = Tensor(ElementType::f32, m.shape());
            for (int64_t i = 0; i < m.size(); ++i)
                mask.data<float>()[i] =
                    m.data<bool>()[i] ? 0.f : -std::numeric_limits<float>::infinity();
        } else {
            mask = m;
        }
        Shape scores = batch;
        scores.push_back(l);
        scores.push_back(s);
        KILN_CHECK(broadcast_static(scores, m.shape()) == scores, a.context, " attn_mask ",
                   to_string(m.shape()), " does not broadcast to the scores ", to_string(scores));
        mask_strides = broadcast_strides(m.shape(), scores);
    }
    const std::vector<int64_t> qi = broadcast_index(batch, batch_of(q.shape()));
    const std::vector<int64_t> ki = broadcast_index(batch, batch_of(k.shape));
    const std::vector<int64_t> vi = broadcast_index(batch, batch_of(v.shape));
    const float* qd = q.data<float>();
    const float* md = mask.empty() ? nullptr : mask.data<float>();
    float* yd = y.data<float>();
    if (count > 0 && l > 0 && ev > 0) {
        threads_of(ctx).parallel_for(0, count, 2 * l * s * (e + ev), [&](int64_t lo, int64_t hi) {
            thread_local std::vector<float> scores, k_wide, v_wide;
            scores.resize(static_cast<size_t>(l * s));
            for (int64_t b = lo; b < hi; ++b) {
                float* yb = yd + b * l * ev;
                if (s == 0 || e == 0) {
                    // No keys (or empty embeddings): softmax of nothing, or of zeros.
                    std::fill(yb, yb + l * ev, 0.f);
                    if (s == 0) continue;
                }
                const bool direct = l <= kDirectRows;
                if (e > 0 && direct) {
                    for (int64_t i = 0; i < l; ++i) {
                        const float* qrow = qd + qi[b] * l * e + i * e;
                        if (k.f16)
                            a.dot_rows_f16(qrow, k.f16_matrix(ki[b]), s, e, scores.data() + i * s);
                        else
                            a.dot_rows(qrow, k.f32_matrix(ki[b]), s, e, scores.data() + i * s);
                    }
                } else if (e > 0) {
                    const gemm::PackedB kt =
                        gemm::pack_b(k.widened(ki[b], s * e, k_wide), e, s, e, true, a.isa);
                    gemm::gemm(qd + qi[b] * l * e, e, kt, scores.data(), s, l);
                } else {
                    std::fill(scores.begin(), scores.end(), 0.f);
                }
                // Mask offset of this matrix: its batch coordinates through the strides.
                int64_t moff = 0;
                if (md) {
                    int64_t rest = b;
                    for (size_t d = batch.size(); d-- > 0;) {
                        moff += (rest % batch[d]) * mask_strides[d];
                        rest /= batch[d];
                    }
                }
                for (int64_t i = 0; i < l; ++i) {
                    attention::SoftmaxRow row;
                    row.scale = scale;
                    if (md) {
                        row.mask = md + moff + i * mask_strides[batch.size()];
                        row.mask_stride = mask_strides[batch.size() + 1];
                    }
                    const int64_t valid = a.causal ? std::min(s, i + 1) : s;
                    a.softmax(scores.data() + i * s, s, valid, row);
                }
                if (direct) {
                    for (int64_t i = 0; i < l; ++i) {
                        if (v.f16)
                            a.weighted_rows_f16(scores.data() + i * s, v.f16_matrix(vi[b]), s, ev,
                                                yb + i * ev);
                        else
                            a.weighted_rows(scores.data() + i * s, v.f32_matrix(vi[b]), s, ev,
                                            yb + i * ev);
                    }
                    continue;
                }
                const gemm::PackedB vp =
                    gemm::pack_b(v.widened(vi[b], s * ev, v_wide), s, ev, ev, false, a.isa);
                gemm::gemm(scores.data(), s, vp, yb, ev, l);
            }
        });
    }
    return y;
}

AttentionSetup setup_for(const Node& node, const KernelContext& kc, bool causal) {
    const bool avx512 = gemm::best_isa() == gemm::Isa::avx512;
    return {causal,
            gemm::packing_isa(kc.bf16),
            avx512 ? attention::softmax_row_avx512 : attention::softmax_row_scalar,
            avx512 ? attention::dot_rows_avx512 : attention::dot_rows_scalar,
            avx512 ? attention::weighted_rows_avx512 : attention::weighted_rows_scalar,
            avx512 ? attention::dot_rows_f16_avx512 : attention::dot_rows_f16_scalar,
            avx512 ? attention::weighted_rows_f16_avx512 : attention::weighted_rows_f16_scalar,
            node.context()};
}

Operand contiguous(const Tensor& t) {
    const Shape& sh = t.shape();
    const int64_t matrix = sh.size() >= 2 ? sh[sh.size() - 2] * sh.back() : 0;
    return {t.data<float>(), sh, matrix, false};
}

// A KV cache kept in place across steps: [B, H, capacity, E] with the first `length` rows of
// each head filled, in f32 or f16 (KV_CACHE_PRECISION). The request's variable map holds the
// buffer under the variable id and the length beside it, so reset_state() forgets both.
class KvCache {
public:
    KvCache(std::map<std::string, Tensor>& vars, const std::string& id, bool f16)
        : buffer_(vars[id]), length_(vars[id + kLengthSuffix]), type_(f16 ? ElementType::f16 : ElementType::f32) {}

    // Appends `fresh` [B, H, S, E] (starting from `init` when empty) and returns the whole cache.
    Operand append(const Tensor& init, const Tensor& fresh, const std::string& context) {
        const Shape& f = fresh.shape();
        KILN_CHECK(f.size() == 4, context, " new keys/values must be 4-D, got ", to_string(f));
        if (buffer_.empty()) {
            const Shape& i = init.shape();
            KILN_CHECK(i.size() == 4 && i[0] == f[0] && i[1] == f[1] && i[3] == f[3], context,
                       " the cache initializer ", to_string(i), " does not fit the new rows ",
                       to_string(f));
            grow(f[0], f[1], f[3], i[2] + f[2], 0);
            copy_rows(init.data<float>(), i[2], 0);
            set_length(i[2]);
        }
        const Shape& b = buffer_.shape();
        KILN_CHECK(b[0] == f[0] && b[1] == f[1] && b[3] == f[3], context, " the cached ",
                   to_string(Shape{b[0], b[1], length(), b[3]}), " and the new ", to_string(f),
                   " do not fit together (a new batch size needs reset_state())");
        const int64_t used = length();
        if (used + f[2] > b[2]) grow(b[0], b[1], b[3], used + f[2], used);
        copy_rows(fresh.data<float>(), f[2], used);
        set_length(used + f[2]);
        const Shape& nb = buffer_.shape();
        return {buffer_.raw_data(), Shape{nb[0], nb[1], length(), nb[3]}, nb[2] * nb[3],
                type_ == ElementType::f16};
    }

    static constexpr const char* kLengthSuffix = "\x1f" "length";

private:
    int64_t length() const { return length_.empty() ? 0 : *length_.data<int64_t>(); }
    void set_length(int64_t n) {
        if (length_.empty()) length_ = Tensor(ElementType::i64, {});
        *length_.data<int64_t>() = n;
    }
    // Room for at least `rows` rows per head (doubling, so appends cost O(1) amortized),
    // keeping the first `keep` rows.
    void grow(int64_t batch, int64_t heads, int64_t e, int64_t rows, int64_t keep) {
        const int64_t old_cap = buffer_.empty() ? 0 : buffer_.shape()[2];
        const int64_t cap = std::max({rows, 2 * old_cap, int64_t{256}});
        Tensor bigger(type_, Shape{batch, heads, cap, e});
        const size_t width = byte_size(type_, 1);
        const auto* from = static_cast<const uint8_t*>(buffer_.raw_data());
        auto* to = static_cast<uint8_t*>(bigger.raw_data());
        for (int64_t m = 0; m < batch * heads && keep > 0; ++m)
            std::memcpy(to + m * cap * e * width, from + m * old_cap * e * width, keep * e * width);
        buffer_ = std::move(bigger);
    }
    // Rows [at, at + n) of every head from `src` [B, H, n, E] (f32), stored in the cache's type.
    void copy_rows(const float* src, int64_t n, int64_t at) {
        const Shape& b = buffer_.shape();
        const int64_t e = b[3], cap = b[2];
        for (int64_t m = 0; m < b[0] * b[1]; ++m) {
            if (type_ == ElementType::f16)
                ew::ew_kernels().convert(ew::ConvertOp::f32_to_f16, src + m * n * e,
                                         buffer_.data<float16>() + (m * cap + at) * e,
                                         static_cast<size_t>(n * e));
            else
                std::copy_n(src + m * n * e, n * e, buffer_.data<float>() + (m * cap + at) * e);
        }
    }

    Tensor& buffer_;
    Tensor& length_;
    ElementType type_;
};

}  // namespace

KernelFn make_attention_f32_kernel(const Node& node, const KernelContext& kc) {
    if (node.type() == "ScaledDotProductAttentionWithKVCache") {
        for (size_t i = 0; i < 6; ++i)
            if (node.input_type(i) != ElementType::f32) return {};
        const AttentionSetup setup = setup_for(node, kc, false);
        const std::string key_id = node.attrs().get_string("key_variable_id");
        const std::string value_id = node.attrs().get_string("value_variable_id");
        const bool f16 = kc.kv_cache_f16;
        return [setup, key_id, value_id, f16](const TensorVector& in, TensorVector& out,
                                              ExecContext& ctx) {
            KILN_CHECK(ctx.variables, setup.context, " needs variable state");
            const Operand k =
                KvCache(*ctx.variables, key_id, f16).append(in[3], in[1], setup.context);
            const Operand v =
                KvCache(*ctx.variables, value_id, f16).append(in[4], in[2], setup.context);
            out.assign(1, attend(setup, in[0], k, v, &in[5], &in[6], ctx));
        };
    }
    if (node.type() != "ScaledDotProductAttention") return {};
    for (size_t i = 0; i < 3; ++i)
        if (node.input_type(i) != ElementType::f32) return {};
    if (node.input_count() > 3 && node.input_type(3) != ElementType::f32 &&
        node.input_type(3) != ElementType::boolean)
        return {};
    const AttentionSetup setup = setup_for(node, kc, node.attrs().get_bool("causal", false));
    return [setup](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        out.assign(1, attend(setup, in[0], contiguous(in[1]), contiguous(in[2]),
                             in.size() > 3 ? &in[3] : nullptr, in.size() > 4 ? &in[4] : nullptr,
                             ctx));
    };
}

}  // namespace kiln::cpu
