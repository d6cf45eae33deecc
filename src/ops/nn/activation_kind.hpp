#pragma once
// The activations FusedConvolution can apply. Kept free of includes so that ISA-specific kernel
// files (compiled with their own -m flags) can use it without instantiating library code.

namespace kiln::nn {

enum class ActivationKind { none, relu, clamp, hswish, hsigmoid, hard_sigmoid, sigmoid };

}  // namespace kiln::nn
