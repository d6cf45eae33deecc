#pragma once
// Registration entry points of the quant family's files (see register.cpp).
#include "core/op_def.hpp"

namespace kiln {

void register_resize(OpRegistry& r);
void register_sampling(OpRegistry& r);
void register_quantize(OpRegistry& r);
void register_conv_integer(OpRegistry& r);
void register_fake_quantize(OpRegistry& r);

}  // namespace kiln
