#include "transforms/constant_folding.hpp"
#include "transforms/pass_manager.hpp"

namespace kiln {

void run_common_passes(Model& model) {
    PassManager pm;
    pm.add<ConstantFolding>();
    pm.run(model);
    model.validate();
}

}  // namespace kiln
