#include "cpu/kernels/conv/fused_conv_kernel.hpp"

#include <memory>

#include "cpu/kernels/conv/conv_gemm.hpp"
#include "cpu/kernels/conv/depthwise_conv.hpp"
#include "cpu/kernels/conv/nchw_gemm_conv.hpp"
#include "cpu/kernels/conv/winograd_conv.hpp"
#include "cpu/kernels/uninitialized_tensor.hpp"

namespace kiln::cpu {

namespace conv {

Geometry resolve_geometry(const Node& node, const ConvSpec& spec, int64_t h, int64_t w) {
    nn::Window win = spec.window;
    const Shape out = nn::resolve_window(node, win, {h, w});
    Geometry g;
    g.h = h;
    g.w = w;
    g.oh = out[0];
    g.ow = out[1];
    g.sy = win.strides[0];
    g.sx = win.strides[1];
    g.dy = win.dilations[0];
    g.dx = win.dilations[1];
    g.pt = win.pads_begin[0];
    g.pl = win.pads_begin[1];
    return g;
}

}  // namespace conv

namespace {

enum class Path { gemm, depthwise };

// Below this many output positions per image the transposed product wins: the NCHW one would
// fill its 32-wide position panels poorly.
constexpr int64_t kMinNchwPositions = 128;

// Output positions per image when the data's spatial extents are static, else -1.
int64_t static_positions(const Node& node) {
    const PartialShape& out = node.output_shape(0);
    if (!out.rank_is_static() || out.size() != 4 || !out[2].is_static() || !out[3].is_static())
        return -1;
    return out[2].get_length() * out[3].get_length();
}

// The Winograd filters when the output extents are static and Winograd applies to them.
std::shared_ptr<const conv::WinogradFilters> make_winograd(const Node& node,
                                                           const conv::ConvSpec& spec,
                                                           const Tensor& filters) {
    const PartialShape& out = node.output_shape(0);
    if (!out.rank_is_static() || out.size() != 4 || !out[2].is_static() || !out[3].is_static())
        return nullptr;
    conv::Geometry g;
    g.oh = out[2].get_length();
    g.ow = out[3].get_length();
    g.sy = spec.window.strides[0];
    g.sx = spec.window.strides[1];
    g.dy = spec.window.dilations[0];
    g.dx = spec.window.dilations[1];
    if (!conv::winograd_applies(spec, g)) return nullptr;
    return std::make_shared<const conv::WinogradFilters>(filters.data<float>(), spec.cout,
                                                         spec.cin);
}

}  // namespace

KernelFn make_fused_conv_kernel(const Node& node, const KernelContext& kc) {
    const bool fused = node.type() == "FusedConvolution";
    if (!fused && node.type() != "GroupConvolution" && node.type() != "Convolution") return {};
    if (!fused && node.input_count() != 2) return {};
    const Tensor* filters = node.input_constant(1);
    const PartialShape& data = node.input_shape(0);
    if (!filters || filters->element_type() != ElementType::f32) return {};
    if (node.input_type(0) != ElementType::f32 || !data.rank_is_static() || data.size() != 4 ||
        !data[1].is_static())
        return {};
    const Shape& fs = filters->shape();
    const bool grouped = filters->rank() == 5;
    if (filters->rank() != 4 && !grouped) return {};

    conv::ConvSpec spec;
    spec.cin = data[1].get_length();
    spec.kh = fs[fs.size() - 2];
    spec.kw = fs[fs.size() - 1];
    Path path = Path::gemm;
    if (grouped) {
        // Depthwise only: one input and one output channel per group.
        if (fs[1] != 1 || fs[2] != 1 || fs[0] != spec.cin) return {};
        spec.cout = fs[0];
        path = Path::depthwise;
    } else {
        if (fs[1] != spec.cin) return {};
        spec.cout = fs[0];
    }
    if (spec.cout == 0 || spec.cin == 0 || spec.kh == 0 || spec.kw == 0) return {};
    try {
        spec.window = nn::read_window(node, {spec.kh, spec.kw}, true, false);
        if (fused) spec.act = nn::FusedActivation::from_node(node);
    } catch (const Error&) {
        return {};  // the reference kernel reports bad attributes at run time
    }
    spec.bias.assign(static_cast<size_t>(spec.cout), 0.f);
    if (fused) {
        const Tensor* bias = node.input_constant(2);
        if (!bias || bias->element_type() != ElementType::f32 || bias->size() != spec.cout)
            return {};
        std::copy(bias->data<float>(), bias->data<float>() + spec.cout, spec.bias.begin());
        spec.residual = node.input_count() == 4;
    }

    std::shared_ptr<const gemm::PackedB> packed;
    std::shared_ptr<const conv::PackedFilters> nchw_packed;
    std::shared_ptr<const conv::WinogradFilters> winograd;
    std::shared_ptr<const std::vector<float>> dw_weights;
    if (path == Path::gemm) {
        const int64_t k = spec.cin * spec.kh * spec.kw;
        const int64_t positions = static_positions(node);
        // The NCHW panels feed this folder's f32 kernels; the transposed product goes through the
        // GEMM library, which may pack for bf16 when asked.
        const gemm::Isa isa = gemm::packing_isa(kc.bf16);
        winograd = make_winograd(node, spec, *filters);
        if (winograd) {
            // Static shapes: the run-time geometry is the compile-time one.
        } else if (positions < 0 || positions >= kMinNchwPositions)
            nchw_packed = std::make_shared<const conv::PackedFilters>(
                filters->data<float>(), spec.cout, k, gemm::best_isa());
        // Filters [O, C*kh*kw] are B^T of Y^T[OH*OW, O] = X^T[OH*OW, K] * W^T[K, O].
        if (!winograd && positions < kMinNchwPositions)
            packed = std::make_shared<const gemm::PackedB>(
                gemm::pack_b(filters->data<float>(), k, spec.cout, k, /*trans_b=*/true, isa));
    } else {
        dw_weights = std::make_shared<const std::vector<float>>(
            filters->data<float>(), filters->data<float>() + filters->size());
    }
    const Node* n = &node;  // the compiled model owns the node and outlives the plan
    const auto shared_spec = std::make_shared<const conv::ConvSpec>(std::move(spec));

    return [=](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const conv::ConvSpec& s = *shared_spec;
        const Tensor& x = in[0];
        const Shape& xs = x.shape();
        KILN_CHECK(x.rank() == 4 && xs[1] == s.cin, n->context(), " data has shape ", to_string(xs),
                   ", expected [N,", s.cin, ",H,W]");
        const conv::Geometry g = conv::resolve_geometry(*n, s, xs[2], xs[3]);
        if (winograd && !conv::winograd_applies(s, g)) {
            n->def().eval(*n, in, out, ctx);  // unreachable: Winograd is chosen for static shapes
            return;
        }
        Tensor y = uninitialized_tensor(ElementType::f32, {xs[0], s.cout, g.oh, g.ow});
        const Tensor* res = s.residual ? &in[3] : nullptr;
        if (res)
            KILN_CHECK(res->element_type() == ElementType::f32 && res->shape() == y.shape(),
                       n->context(), " residual has shape ", to_string(res->shape()), ", expected ",
                       to_string(y.shape()));
        if (y.size() > 0) {
            if (winograd && conv::winograd_applies(s, g))
                conv::run_winograd_conv(s, g, *winograd, x, res, y, threads_of(ctx));
            else if (path == Path::gemm &&
                     (!packed || (nchw_packed && g.oh * g.ow >= kMinNchwPositions)))
                conv::run_nchw_gemm_conv(s, g, *nchw_packed, x, res, y, threads_of(ctx));
            else if (path == Path::gemm)
                conv::run_gemm_conv(s, g, *packed, x, res, y, threads_of(ctx));
            else
                conv::run_depthwise_conv(s, g, dw_weights->data(), x, res, y, threads_of(ctx));
        }
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
