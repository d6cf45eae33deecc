#include "cpu/kernels/conv2d_f32.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "cpu/kernels/parallel_gemm.hpp"
#include "ops/nn/nn_utils.hpp"

namespace kiln::cpu {

namespace {

// col[(c*kh + i)*kw + j][oy*ow + ox] = x[c, oy*sy - py + i*dy, ox*sx - px + j*dx] (0 outside).
void im2col(const float* x, int64_t channels, int64_t h, int64_t w, const nn::Window& win,
            int64_t oh, int64_t ow, float* col) {
    const int64_t kh = win.kernel[0], kw = win.kernel[1];
    const int64_t sy = win.strides[0], sx = win.strides[1];
    const int64_t dy = win.dilations[0], dx = win.dilations[1];
    const int64_t py = win.pads_begin[0], px = win.pads_begin[1];
    for (int64_t c = 0; c < channels; ++c) {
        const float* xc = x + c * h * w;
        for (int64_t i = 0; i < kh; ++i) {
            for (int64_t j = 0; j < kw; ++j) {
                float* row = col + ((c * kh + i) * kw + j) * oh * ow;
                for (int64_t oy = 0; oy < oh; ++oy) {
                    const int64_t iy = oy * sy - py + i * dy;
                    float* dst = row + oy * ow;
                    if (iy < 0 || iy >= h) {
                        std::fill(dst, dst + ow, 0.f);
                        continue;
                    }
                    const float* src = xc + iy * w;
                    for (int64_t ox = 0; ox < ow; ++ox) {
                        const int64_t ix = ox * sx - px + j * dx;
                        dst[ox] = (ix >= 0 && ix < w) ? src[ix] : 0.f;
                    }
                }
            }
        }
    }
}

}  // namespace

KernelFn make_conv2d_f32_kernel(const Node& node, const KernelContext& kc) {
    if (node.type() != "Convolution" || node.input_count() != 2) return {};
    const Tensor* filters = node.input_constant(1);
    const PartialShape& data = node.input_shape(0);
    if (!filters || filters->element_type() != ElementType::f32 || filters->rank() != 4) return {};
    if (node.input_type(0) != ElementType::f32 || !data.rank_is_static() || data.rank() != 4)
        return {};
    const Shape& fs = filters->shape();
    const int64_t cout = fs[0], k = fs[1] * fs[2] * fs[3];
    if (cout == 0 || k == 0) return {};
    // Filters [Cout, C*kh*kw] are B^T of  Y^T[OH*OW, Cout] = col^T[OH*OW, K] * W^T[K, Cout].
    auto packed = std::make_shared<const gemm::PackedB>(
        gemm::pack_b(filters->data<float>(), k, cout, k, /*trans_b=*/true, gemm::packing_isa(kc.bf16)));
    nn::Window proto;
    try {
        proto = nn::read_window(node, {fs[2], fs[3]}, true, false);
    } catch (const Error&) {
        return {};  // the reference kernel reports bad attributes at run time
    }
    const Node* n = &node;  // the compiled model owns the node and outlives the plan
    kc.keeps_own_copy(1);

    return [=](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        ThreadPool& threads = threads_of(ctx);
        const Tensor& x = in[0];
        const Shape& xs = x.shape();
        KILN_CHECK(x.rank() == 4 && xs[1] == fs[1], n->context(), " data has shape ",
                   to_string(xs), ", expected [N,", fs[1], ",H,W]");
        nn::Window win = proto;
        const Shape spatial = nn::resolve_window(*n, win, {xs[2], xs[3]});
        const int64_t oh = spatial[0], ow = spatial[1], m = oh * ow;
        Tensor y(ElementType::f32, {xs[0], cout, oh, ow});
        if (m == 0 || xs[0] == 0) {
            out.assign(1, std::move(y));
            return;
        }
        std::vector<float> col(static_cast<size_t>(k * m));
        std::vector<float> yt(static_cast<size_t>(m * cout));
        for (int64_t b = 0; b < xs[0]; ++b) {
            im2col(x.data<float>() + b * xs[1] * xs[2] * xs[3], xs[1], xs[2], xs[3], win, oh, ow,
                   col.data());
            // col is stored [K, M]: it is A^T for the GEMM, read with trans_a.
            parallel_gemm(threads, col.data(), m, true, *packed, yt.data(), cout, m);
            float* yb = y.data<float>() + b * cout * m;
            for (int64_t p = 0; p < m; ++p)
                for (int64_t c = 0; c < cout; ++c) yb[c * m + p] = yt[p * cout + c];
        }
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
