#include "cpu/kernels/lowbit/gather_compressed_kernel.hpp"

#include <vector>

#include "cpu/kernels/lowbit/lowbit_layout.hpp"
#include "cpu/kernels/uninitialized_tensor.hpp"
#include "ops/nn/compressed_weights.hpp"

namespace kiln::cpu {

KernelFn make_gather_compressed_kernel(const Node& node, const KernelContext& kc) {
    if (node.type() != "GatherCompressed" || node.input_count() < 3) return {};
    if (!lowbit::PackedWeights::packable(node, 0, 2, 3)) return {};
    // Only a table the output projection also reads (a tied embedding) is worth a pack: its
    // rows then come from the projection's pack and the original is dropped. An embedding of
    // its own stays where it is (the reference kernel dequantizes the few rows a step asks
    // for), so a table mapped from an IR file is never read whole into memory.
    if (kc.readers_of(node.input(0).node.get()) < 2) return {};
    auto packed = lowbit::PackedWeights::shared(kc.shared_packs, node, 0, 2, 3);
    kc.keeps_own_copy(0);
    kc.keeps_own_copy(2);
    if (node.input_count() > 3) kc.keeps_own_copy(3);
    const std::string context = node.context();

    return [packed, context](const TensorVector& in, TensorVector& out, ExecContext&) {
        const Tensor& indices = in[1];
        KILN_CHECK(indices.element_type() == ElementType::i64 ||
                       indices.element_type() == ElementType::i32,
                   context, " indices must be i32 or i64, got ", to_string(indices.element_type()));
        const int64_t n = packed->n(), k = packed->k();
        Shape shape = indices.shape();
        shape.push_back(k);
        Tensor y = uninitialized_tensor(ElementType::f32, shape);
        float* yd = y.data<float>();
        for (int64_t i = 0; i < indices.size(); ++i) {
            const int64_t id = indices.element_type() == ElementType::i64
                                   ? indices.data<int64_t>()[i]
                                   : indices.data<int32_t>()[i];
            const int64_t r = id < 0 ? id + n : id;
            KILN_CHECK(r >= 0 && r < n, context, " index ", id, " is out of range for ", n,
                       " rows");
            packed->dequantize_row(r, yd + i * k);
        }
        out.assign(1, std::move(y));
    };
}

}  // namespace kiln::cpu
