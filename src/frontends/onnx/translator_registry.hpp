#pragma once
// ONNX translators keyed by (domain, op_type). Families in src/frontends/onnx/ops/ register
// theirs; translator_families.inc lists the families.
#include <map>
#include <string>

#include "frontends/onnx/node_context.hpp"

namespace kiln::onnx_fe {

class TranslatorRegistry {
public:
    /// Domain "" means ai.onnx (also accepted as "ai.onnx").
    void add(const std::string& op_type, Translator t, const std::string& domain = "");
    Translator find(const std::string& domain, const std::string& op_type) const;

private:
    std::map<std::pair<std::string, std::string>, Translator> map_;
};

/// Every family registered once.
const TranslatorRegistry& translators();

}  // namespace kiln::onnx_fe
