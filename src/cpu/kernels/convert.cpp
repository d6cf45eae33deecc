#include "cpu/kernels/convert.hpp"

#include <optional>

#include "cpu/kernels/elementwise/ew_ops.hpp"
#include "cpu/kernels/elementwise/ew_support.hpp"

namespace kiln::cpu {
namespace {

std::optional<ew::ConvertOp> convert_op(ElementType from, ElementType to) {
    using E = ElementType;
    if (from == E::f32 && to == E::f16) return ew::ConvertOp::f32_to_f16;
    if (from == E::f16 && to == E::f32) return ew::ConvertOp::f16_to_f32;
    if (from == E::f32 && to == E::bf16) return ew::ConvertOp::f32_to_bf16;
    if (from == E::bf16 && to == E::f32) return ew::ConvertOp::bf16_to_f32;
    if (from == E::i64 && to == E::f32) return ew::ConvertOp::i64_to_f32;
    if (from == E::f32 && to == E::i64) return ew::ConvertOp::f32_to_i64;
    return std::nullopt;
}

}  // namespace

KernelFn make_convert_kernel(const Node& node, const KernelContext&) {
    if (node.type() != "Convert" || node.input_count() != 1) return {};
    const ElementType from = node.input_type(0);
    const ElementType to = element_type_from_string(node.attrs().get_string("destination_type"));
    const auto op = convert_op(from, to);
    if (!op) return {};
    const size_t in_size = byte_size(from, 1), out_size = byte_size(to, 1);

    return [=](const TensorVector& in, TensorVector& out, ExecContext& ctx) {
        const Tensor& x = in[0];
        Tensor y = ew::uninitialized_tensor(to, x.shape());
        const auto* src = static_cast<const char*>(x.raw_data());
        auto* dst = static_cast<char*>(y.raw_data());
        const ew::EwKernels& k = ew::ew_kernels();
        ew::parallel_elements(threads_of(ctx), x.size(), ew::kCheapCost,
                              [&](int64_t lo, int64_t hi) {
                                  k.convert(*op, src + lo * in_size, dst + lo * out_size,
                                            static_cast<size_t>(hi - lo));
                              });
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
