#include "cpu/kernel_selector.hpp"

#include "cpu/kernels/attention_f32.hpp"
#include "cpu/kernels/batched_matmul_f32.hpp"
#include "cpu/kernels/conv2d_f32.hpp"
#include "cpu/kernels/layer_norm_f32.hpp"
#include "cpu/kernels/matmul_f32.hpp"
#include "cpu/kernels/transpose.hpp"

namespace kiln::cpu {

KernelFn select_kernel(const Node& node, const KernelContext& kc) {
    if (node.type() == "MatMul") {
        if (KernelFn k = make_matmul_f32_kernel(node, kc)) return k;
        return make_batched_matmul_f32_kernel(node, kc);
    }
    if (node.type() == "FullyConnected") return make_matmul_f32_kernel(node, kc);
    if (node.type() == "LayerNorm") return make_layer_norm_f32_kernel(node, kc);
    if (node.type() == "Transpose") return make_transpose_kernel(node, kc);
    if (node.type() == "ScaledDotProductAttention") return make_attention_f32_kernel(node, kc);
    if (node.type() == "Convolution") return make_conv2d_f32_kernel(node, kc);
    return {};
}

}  // namespace kiln::cpu
