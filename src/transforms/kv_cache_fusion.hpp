#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Fuses the KV-cache update of a stateful LLM into its attention: for the keys and for the
/// values, ReadValue(init) -> Concat(past, new, axis 2) -> Assign (same variable), where the
/// concatenation feeds only the Assign and a ScaledDotProductAttention, becomes one
/// ScaledDotProductAttentionWithKVCache (kiln1). The CPU kernel of that op then appends the new
/// rows to a cache it keeps in place, instead of copying the whole cache every step.
class KvCacheFusion : public ModelPass {
public:
    std::string name() const override { return "KvCacheFusion"; }
    bool run(Model& model) override;
};

}  // namespace kiln
