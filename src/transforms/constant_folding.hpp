#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Evaluates nodes whose inputs are all constants and replaces them with Const nodes, using the
/// ops' reference kernels (so results are exactly what the device would compute). Outputs larger
/// than `max_elements` stay computed at run time to keep the model small.
class ConstantFolding : public ModelPass {
public:
    explicit ConstantFolding(int64_t max_elements = int64_t{1} << 20) : max_elements_(max_elements) {}
    std::string name() const override { return "ConstantFolding"; }
    bool run(Model& model) override;

private:
    int64_t max_elements_;
};

}  // namespace kiln
