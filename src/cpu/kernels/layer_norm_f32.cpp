#include "cpu/kernels/layer_norm_f32.hpp"

#include <memory>
#include <vector>

#include "cpu/kernels/gemm/gemm.hpp"
#include "cpu/kernels/norm/layer_norm_rows.hpp"
#include "ops/common/shape_utils.hpp"

namespace kiln::cpu {
namespace {

// Scale or bias broadcast to one float per element of the normalized shape.
std::vector<float> expand(const Tensor* t, const Shape& normalized, float dflt) {
    std::vector<float> v(static_cast<size_t>(shape_size(normalized)), dflt);
    if (t)
        for_each_broadcast<1>(normalized, {t->shape()}, [&](int64_t i, const auto& off) {
            v[i] = static_cast<float>(t->value_as_double(off[0]));
        });
    return v;
}

}  // namespace

KernelFn make_layer_norm_f32_kernel(const Node& node, const KernelContext&) {
    if (node.type() != "LayerNorm" || node.input_type(0) != ElementType::f32) return {};
    const PartialShape& xs = node.input_shape(0);
    if (!xs.rank_is_static()) return {};
    const int64_t rank = static_cast<int64_t>(xs.size());
    const int64_t axis = normalize_axis(node, node.attrs().get_int("axis", -1), rank);
    std::vector<Dimension> trailing(xs.dims().begin() + axis, xs.dims().end());
    if (!PartialShape(trailing).is_static()) return {};
    const Shape normalized = PartialShape(trailing).to_shape();
    const Tensor* scale = node.input_constant(1);
    const Tensor* bias = node.input_count() > 2 ? node.input_constant(2) : nullptr;
    if (!scale || (node.input_count() > 2 && !bias)) return {};

    struct State {
        std::vector<float> scale, bias;
        norm::LayerNormParams params;
        norm::LayerNormRowsFn rows_fn;
    };
    auto st = std::make_shared<State>();
    st->scale = expand(scale, normalized, 1.f);
    st->bias = expand(bias, normalized, 0.f);
    st->params.n = shape_size(normalized);
    st->params.epsilon = static_cast<float>(node.attrs().get_float("epsilon", 1e-5));
    st->params.rms = node.attrs().get_bool("rms", false);
    st->params.scale = st->scale.data();
    st->params.bias = st->bias.data();
    st->rows_fn = gemm::best_isa() == gemm::Isa::avx512 ? norm::layer_norm_rows_avx512
                                                        : norm::layer_norm_rows_scalar;
    const std::string context = node.context();

    return [st, axis, normalized, context](const TensorVector& in, TensorVector& out,
                                           ExecContext& ctx) {
        const Tensor& x = in[0];
        KILN_CHECK(
            x.rank() > axis && Shape(x.shape().begin() + axis, x.shape().end()) == normalized,
            context, " input 0 has shape ", to_string(x.shape()), ", its normalized axes must be ",
            to_string(normalized));
        Tensor y(ElementType::f32, x.shape());
        const int64_t n = st->params.n;
        const int64_t rows = n > 0 ? x.size() / n : 0;
        const float* xd = x.data<float>();
        float* yd = y.data<float>();
        threads_of(ctx).parallel_for(0, rows, 4 * n, [&](int64_t lo, int64_t hi) {
            st->rows_fn(xd + lo * n, yd + lo * n, hi - lo, st->params);
        });
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
