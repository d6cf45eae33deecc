#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {

namespace {
OutputVector identity(const NodeContext& ctx) { return {ctx.input(0)}; }
}  // namespace

void register_misc_translators(TranslatorRegistry& r) {
    r.add("Identity", identity);
}

}  // namespace kiln::onnx_fe
