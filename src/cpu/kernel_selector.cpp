#include "cpu/kernel_selector.hpp"

#include "cpu/kernels/attention_f32.hpp"
#include "cpu/kernels/batched_matmul_f32.hpp"
#include "cpu/kernels/concat.hpp"
#include "cpu/kernels/conv/fused_conv_kernel.hpp"
#include "cpu/kernels/conv2d_f32.hpp"
#include "cpu/kernels/convert.hpp"
#include "cpu/kernels/elementwise/elementwise_kernels.hpp"
#include "cpu/kernels/layer_norm_f32.hpp"
#include "cpu/kernels/lowbit/fc_compressed_kernel.hpp"
#include "cpu/kernels/lowbit/gather_compressed_kernel.hpp"
#include "cpu/kernels/matmul_f32.hpp"
#include "cpu/kernels/pool/pool_f32.hpp"
#include "cpu/kernels/reduce_f32.hpp"
#include "cpu/kernels/reshape.hpp"
#include "cpu/kernels/softmax_f32.hpp"
#include "cpu/kernels/split.hpp"
#include "cpu/kernels/transpose.hpp"

namespace kiln::cpu {

KernelFn select_kernel(const Node& node, const KernelContext& kc) {
    if (node.type() == "MatMul") {
        if (KernelFn k = make_matmul_f32_kernel(node, kc)) return k;
        return make_batched_matmul_f32_kernel(node, kc);
    }
    if (node.type() == "FullyConnected") return make_matmul_f32_kernel(node, kc);
    if (node.type() == "FullyConnectedCompressed") return make_fc_compressed_kernel(node, kc);
    if (node.type() == "GatherCompressed") return make_gather_compressed_kernel(node, kc);
    if (node.type() == "LayerNorm") return make_layer_norm_f32_kernel(node, kc);
    if (node.type() == "Transpose") return make_transpose_kernel(node, kc);
    if (node.type() == "Reshape") return make_reshape_kernel(node, kc);
    if (node.type() == "ScaledDotProductAttention" ||
        node.type() == "ScaledDotProductAttentionWithKVCache")
        return make_attention_f32_kernel(node, kc);
    if (node.type() == "Convolution") {
        if (KernelFn k = make_fused_conv_kernel(node, kc)) return k;
        return make_conv2d_f32_kernel(node, kc);
    }
    if (node.type() == "FusedConvolution" || node.type() == "GroupConvolution")
        return make_fused_conv_kernel(node, kc);
    if (node.type() == "MaxPool" || node.type() == "AvgPool") return make_pool_f32_kernel(node, kc);
    if (KernelFn k = make_elementwise_kernel(node, kc)) return k;
    if (KernelFn k = make_softmax_f32_kernel(node, kc)) return k;
    if (KernelFn k = make_reduce_f32_kernel(node, kc)) return k;
    if (KernelFn k = make_concat_kernel(node, kc)) return k;
    if (KernelFn k = make_split_kernel(node, kc)) return k;
    if (KernelFn k = make_convert_kernel(node, kc)) return k;
    return {};
}

}  // namespace kiln::cpu
