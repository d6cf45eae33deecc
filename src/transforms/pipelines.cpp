#include "transforms/attention_fusion.hpp"
#include "transforms/constant_folding.hpp"
#include "transforms/gelu_fusion.hpp"
#include "transforms/layer_norm_fusion.hpp"
#include "transforms/matmul_bias_fusion.hpp"
#include "transforms/pass_manager.hpp"

namespace kiln {

void run_common_passes(Model& model) {
    PassManager pm;
    pm.add<ConstantFolding>();
    pm.run(model);
    model.validate();
}

void run_cpu_passes(Model& model) {
    PassManager pm;
    // Fusion passes register here, in the order they must run.
    pm.add<GeluFusion>();
    pm.add<LayerNormFusion>();
    pm.add<MatMulBiasFusion>();
    pm.add<AttentionFusion>();
    pm.run(model);
    model.validate();
}

}  // namespace kiln
