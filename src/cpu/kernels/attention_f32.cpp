#include "cpu/kernels/attention_f32.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "cpu/kernels/attention/softmax_row.hpp"
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

}  // namespace

KernelFn make_attention_f32_kernel(const Node& node, const KernelContext& kc) {
    if (node.type() != "ScaledDotProductAttention") return {};
    for (size_t i = 0; i < 3; ++i)
        if (node.input_type(i) != ElementType::f32) return {};
    if (node.input_count() > 3 && node.input_type(3) != ElementType::f32 &&
        node.input_type(3) != ElementType::boolean)
        return {};
    const bool causal = node.attrs().get_bool("causal", false);
    const gemm::Isa isa = gemm::packing_isa(kc.bf16);
    const auto softmax = gemm::best_isa() == gemm::Isa::avx512 ? attention::softmax_row_avx512
                                                               : attention::softmax_row_scalar;
    const std::string context = node.context();

    return [causal, isa, softmax, context](const TensorVector& in, TensorVector& out,
                                           ExecContext& ctx) {
        const Tensor &q = in[0], &k = in[1], &v = in[2];
        KILN_CHECK(q.rank() >= 2 && k.rank() >= 2 && v.rank() >= 2, context,
                   " query, key and value must be at least 2-D");
        const int64_t l = q.shape()[q.rank() - 2], e = q.shape().back();
        const int64_t s = k.shape()[k.rank() - 2], ev = v.shape().back();
        KILN_CHECK(k.shape().back() == e && v.shape()[v.rank() - 2] == s, context, " query ",
                   to_string(q.shape()), ", key ", to_string(k.shape()), " and value ",
                   to_string(v.shape()), " do not fit together");
        const Shape batch = broadcast_static(
            broadcast_static(batch_of(q.shape()), batch_of(k.shape())), batch_of(v.shape()));
        Shape out_shape = batch;
        out_shape.push_back(l);
        out_shape.push_back(ev);
        Tensor y(ElementType::f32, out_shape);
        const int64_t count = shape_size(batch);
        const float scale = in.size() > 4 ? static_cast<float>(in[4].value_as_double(0))
                                          : 1.f / std::sqrt(static_cast<float>(e));
        // The mask as f32 with its strides over the [batch..., L, S] scores.
        Tensor mask;
        std::vector<int64_t> mask_strides;
        if (in.size() > 3 && !causal) {
            const Tensor& m = in[3];
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
            KILN_CHECK(broadcast_static(scores, m.shape()) == scores, context, " attn_mask ",
                       to_string(m.shape()), " does not broadcast to the scores ",
                       to_string(scores));
            mask_strides = broadcast_strides(m.shape(), scores);
        }
        const std::vector<int64_t> qi = broadcast_index(batch, batch_of(q.shape()));
        const std::vector<int64_t> ki = broadcast_index(batch, batch_of(k.shape()));
        const std::vector<int64_t> vi = broadcast_index(batch, batch_of(v.shape()));
        const float* qd = q.data<float>();
        const float* kd = k.data<float>();
        const float* vd = v.data<float>();
        const float* md = mask.empty() ? nullptr : mask.data<float>();
        float* yd = y.data<float>();
        if (count > 0 && l > 0 && ev > 0) {
            threads_of(ctx).parallel_for(
                0, count, 2 * l * s * (e + ev), [&](int64_t lo, int64_t hi) {
                    thread_local std::vector<float> scores;
                    scores.resize(static_cast<size_t>(l * s));
                    for (int64_t b = lo; b < hi; ++b) {
                        float* yb = yd + b * l * ev;
                        if (s == 0 || e == 0) {
                            // No keys (or empty embeddings): softmax of nothing, or of zeros.
                            std::fill(yb, yb + l * ev, 0.f);
                            if (s == 0) continue;
                        }
                        if (e > 0) {
                            const gemm::PackedB kt =
                                gemm::pack_b(kd + ki[b] * s * e, e, s, e, true, isa);
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
                            const int64_t valid = causal ? std::min(s, i + 1) : s;
                            softmax(scores.data() + i * s, s, valid, row);
                        }
                        const gemm::PackedB vp =
                            gemm::pack_b(vd + vi[b] * s * ev, s, ev, ev, false, isa);
                        gemm::gemm(scores.data(), s, vp, yb, ev, l);
                    }
                });
        }
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
