#include <map>
#include <string>

#include "cpu/kernels/elementwise/elementwise_kernels.hpp"
#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "cpu/kernels/elementwise/ew_support.hpp"

namespace kiln::cpu {

using ew::UnaryOp;

namespace {

struct UnaryInfo {
    UnaryOp op;
    int64_t cost;
};

const std::map<std::string, UnaryInfo>& unary_ops() {
    static const std::map<std::string, UnaryInfo> ops = {
        {"Relu", {UnaryOp::relu, ew::kCheapCost}},
        {"Sigmoid", {UnaryOp::sigmoid, ew::kMathCost}},
        {"Tanh", {UnaryOp::tanh, ew::kMathCost}},
        {"Erf", {UnaryOp::erf, ew::kMathCost}},
        {"Exp", {UnaryOp::exp, ew::kMathCost}},
        {"Sqrt", {UnaryOp::sqrt, ew::kCheapCost}},
        {"Abs", {UnaryOp::abs, ew::kCheapCost}},
        {"Negative", {UnaryOp::neg, ew::kCheapCost}},
        {"Clamp", {UnaryOp::clamp, ew::kCheapCost}},
        {"HSwish", {UnaryOp::hswish, ew::kCheapCost}},
        {"HSigmoid", {UnaryOp::hsigmoid, ew::kCheapCost}},
        {"HardSigmoid", {UnaryOp::hard_sigmoid, ew::kCheapCost}},
        {"Swish", {UnaryOp::swish, ew::kMathCost}},
        {"Gelu", {UnaryOp::gelu_erf, ew::kMathCost}},
    };
    return ops;
}

}  // namespace

KernelFn make_unary_f32_kernel(const Node& node, const KernelContext&) {
    const auto it = unary_ops().find(node.type());
    if (it == unary_ops().end() || node.input_count() < 1) return {};
    if (node.input_type(0) != ElementType::f32) return {};
    UnaryInfo info = it->second;
    ew::UnaryParams params;
    if (info.op == UnaryOp::clamp) {
        params.a = static_cast<float>(node.attrs().get_float("min"));
        params.b = static_cast<float>(node.attrs().get_float("max"));
    }
    if (info.op == UnaryOp::gelu_erf) {
        const std::string mode = node.attrs().get_string("approximation_mode", "ERF");
        if (mode == "TANH")
            info.op = UnaryOp::gelu_tanh;
        else if (mode != "ERF")
            return {};
    }
    // Swish's beta and HardSigmoid's alpha and beta are inputs, read at run time.
    const size_t param_inputs = node.input_count() - 1;
    if (param_inputs != (info.op == UnaryOp::hard_sigmoid ? 2u : 0u) &&
        !(info.op == UnaryOp::swish && param_inputs == 1))
        return {};
    for (size_t i = 1; i < node.input_count(); ++i)
        if (node.input_type(i) != ElementType::f32) return {};
    if (info.op == UnaryOp::swish) params.a = 1.f;
    const std::string context = node.context();

    return [info, params, context](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const Tensor& x = in[0];
        ew::UnaryParams p = params;
        for (size_t i = 1; i < in.size(); ++i) {
            KILN_CHECK(in[i].size() == 1, context, " input ", i, " must hold one value, got shape ",
                       to_string(in[i].shape()));
            (i == 1 ? p.a : p.b) = in[i].data<float>()[0];
        }
        Tensor y = ew::uninitialized_tensor(ElementType::f32, x.shape());
        const float* src = x.data<float>();
        float* dst = y.data<float>();
        const ew::EwKernels& k = ew::ew_kernels();
        ew::parallel_elements(threads_of(ctx), x.size(), info.cost, [&](int64_t lo, int64_t hi) {
            k.unary(info.op, p, src + lo, dst + lo, static_cast<size_t>(hi - lo));
        });
        out.assign(1, std::move(y));
    };
}

KernelFn make_elementwise_kernel(const Node& node, const KernelContext& kc) {
    if (KernelFn k = make_unary_f32_kernel(node, kc)) return k;
    return make_binary_f32_kernel(node, kc);
}

}  // namespace kiln::cpu
