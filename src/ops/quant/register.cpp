// Quantization and image-geometry ops: Resize, GridSample, ROIAlign, MaxUnpool,
// QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear, integer matmul.
#include "ops/quant/quant_common.hpp"

namespace kiln {

void register_quant_ops(OpRegistry& r) {
    register_resize(r);
    register_sampling(r);
    register_quantize(r);
    register_conv_integer(r);
}

}  // namespace kiln
