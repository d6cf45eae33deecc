#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {

void register_quant_translators(TranslatorRegistry& r) {
    (void)r;
}

}  // namespace kiln::onnx_fe
