#include "frontends/onnx/translator_registry.hpp"

#include <mutex>

namespace kiln::onnx_fe {

#define KILN_ONNX_FAMILY(name) void register_##name##_translators(TranslatorRegistry&);
#include "frontends/onnx/translator_families.inc"
#undef KILN_ONNX_FAMILY

namespace {
std::string canonical_domain(const std::string& d) { return d == "ai.onnx" ? "" : d; }
}  // namespace

void TranslatorRegistry::add(const std::string& op_type, Translator t, const std::string& domain) {
    auto key = std::make_pair(canonical_domain(domain), op_type);
    KILN_CHECK(!map_.count(key), "ONNX translator for ", op_type, " registered twice");
    map_[key] = t;
}

Translator TranslatorRegistry::find(const std::string& domain, const std::string& op_type) const {
    auto it = map_.find({canonical_domain(domain), op_type});
    return it == map_.end() ? nullptr : it->second;
}

const TranslatorRegistry& translators() {
    static TranslatorRegistry registry;
    static std::once_flag once;
    std::call_once(once, [] {
#define KILN_ONNX_FAMILY(name) register_##name##_translators(registry);
#include "frontends/onnx/translator_families.inc"
#undef KILN_ONNX_FAMILY
    });
    return registry;
}

}  // namespace kiln::onnx_fe
