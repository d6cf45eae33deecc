#include "transforms/attention_fusion.hpp"
#include "transforms/common_subexpressions.hpp"
#include "transforms/compressed_weights_fusion.hpp"
#include "transforms/constant_folding.hpp"
#include "transforms/fold_shape_of.hpp"
#include "transforms/fuse_convolution.hpp"
#include "transforms/gelu_fusion.hpp"
#include "transforms/kv_cache_fusion.hpp"
#include "transforms/layer_norm_fusion.hpp"
#include "transforms/matmul_bias_fusion.hpp"
#include "transforms/pass_manager.hpp"

namespace kiln {

void run_common_passes(Model& model) {
    PassManager pm;
    pm.add<FoldShapeOf>();
    pm.add<ConstantFolding>();
    pm.add<EliminateCommonSubexpressions>();
    pm.run(model);
    // Nodes whose inputs became constants may now infer static shapes, which fusions rely on.
    model.infer_types();
    model.validate();
}

void run_cpu_passes(Model& model) {
    PassManager pm;
    // Fusion passes register here, in the order they must run.
    pm.add<FuseCompressedWeights>();
    // Low-bit weights no kernel reads compressed fold as before, so later fusions see constants.
    pm.add<ConstantFolding>(int64_t{1} << 20, /*fold_decompression=*/true);
    pm.add<GeluFusion>();
    pm.add<LayerNormFusion>();
    pm.add<MatMulBiasFusion>();
    pm.add<AttentionFusion>();
    pm.add<KvCacheFusion>();
    pm.add<FuseConvolution>();
    pm.run(model);
    model.validate();
}

}  // namespace kiln
