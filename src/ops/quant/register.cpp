// Quantization and image-geometry ops: Resize, GridSample, ROIAlign, MaxUnpool,
// QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear, FakeQuantize, integer matmul and
// convolution.
#include "ops/quant/quant_common.hpp"

namespace kiln {

void register_quant_ops(OpRegistry& r) {
    register_resize(r);
    register_sampling(r);
    register_quantize(r);
    register_conv_integer(r);
    register_fake_quantize(r);
}

}  // namespace kiln
