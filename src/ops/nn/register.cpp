// The nn family: matrix multiplication, convolutions, pooling and normalizations.
#include "core/op_def.hpp"

namespace kiln {
namespace nn {
void register_matmul(OpRegistry& r);
void register_conv(OpRegistry& r);
void register_conv_backprop(OpRegistry& r);
void register_pool(OpRegistry& r);
void register_norm(OpRegistry& r);
void register_dropout(OpRegistry& r);
void register_fused_conv(OpRegistry& r);
void register_layer_norm(OpRegistry& r);
void register_fully_connected(OpRegistry& r);
void register_attention(OpRegistry& r);
void register_compressed_weights(OpRegistry& r);
}  // namespace nn

void register_nn_ops(OpRegistry& r) {
    nn::register_matmul(r);
    nn::register_conv(r);
    nn::register_conv_backprop(r);
    nn::register_pool(r);
    nn::register_norm(r);
    nn::register_dropout(r);
    nn::register_fused_conv(r);
    nn::register_layer_norm(r);
    nn::register_fully_connected(r);
    nn::register_attention(r);
    nn::register_compressed_weights(r);
}

}  // namespace kiln
