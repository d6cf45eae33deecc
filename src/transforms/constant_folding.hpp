#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Evaluates nodes whose inputs are all constants and replaces them with Const nodes, using the
/// ops' reference kernels (so results are exactly what the device would compute). Outputs larger
/// than `max_elements` stay computed at run time to keep the model small. The decompression
/// subgraphs of low-bit weights stay unless `fold_decompression`: the device passes fold the
/// ones no fusion took (see run_cpu_passes).
class ConstantFolding : public ModelPass {
public:
    explicit ConstantFolding(int64_t max_elements = int64_t{1} << 20,
                             bool fold_decompression = false)
        : max_elements_(max_elements), fold_decompression_(fold_decompression) {}
    std::string name() const override { return "ConstantFolding"; }
    bool run(Model& model) override;

private:
    int64_t max_elements_;
    bool fold_decompression_;
};

}  // namespace kiln
