#pragma once
// The decompression subgraph of a quantized weight, in the form of OpenVINO's compressed IR:
// Const (low-bit) -> Convert f32 [-> Subtract Convert(zero point)] -> Multiply scale
// [-> Reshape [N, K] for groups]. Each Convert carries the rt_info "decompression".
#include <string>

#include "compress/quantize.hpp"
#include "kiln/node.hpp"

namespace kiln::compress {

/// Builds the subgraph for `q` (see quantize.hpp for its shapes); returns its f32 [n, k] output.
/// Nodes are named after `name` ("name/scale", "name/zero_point", ...).
Output build_decompression(const QuantizedWeight& q, int64_t n, int64_t k, const std::string& name);

}  // namespace kiln::compress
