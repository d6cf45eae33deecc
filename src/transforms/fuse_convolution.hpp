#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Folds a 2-D f32 Convolution or GroupConvolution with constant filters and what follows it
/// into one FusedConvolution (kiln1):
///     conv -> [Add(per-channel constant bias)] -> [Add(residual)] -> [activation]
/// The activation is Relu, Clamp, Maximum/Minimum by scalar constants (ONNX Clip), HSwish,
/// HSigmoid, HardSigmoid with constant parameters, or Sigmoid. A step is only absorbed when the
/// value before it has no other consumer, and only chains that absorb at least one step fuse.
class FuseConvolution : public ModelPass {
public:
    std::string name() const override { return "FuseConvolution"; }
    bool run(Model& model) override;
};

}  // namespace kiln
