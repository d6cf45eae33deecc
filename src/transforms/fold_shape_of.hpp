#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Replaces shape computations that the inferred shapes already answer with constants:
/// ShapeOf of a statically shaped tensor, and Gather of constant indices out of a ShapeOf whose
/// picked dimensions are static (the usual "batch stays dynamic, sequence length is known"
/// case of exported transformers). ConstantFolding then collapses the Concat/Reshape chains
/// that consumed them.
class FoldShapeOf : public ModelPass {
public:
    std::string name() const override { return "FoldShapeOf"; }
    bool run(Model& model) override;
};

}  // namespace kiln
