#include "transforms/constant_folding.hpp"
#include "transforms/fuse_convolution.hpp"
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
    pm.add<FuseConvolution>();
    pm.run(model);
    model.validate();
}

}  // namespace kiln
