#include "cpu/kernel_selector.hpp"

#include "cpu/kernels/matmul_f32.hpp"

namespace kiln::cpu {

KernelFn select_kernel(const Node& node) {
    if (node.type() == "MatMul") return make_matmul_f32_kernel(node);
    return {};
}

}  // namespace kiln::cpu
