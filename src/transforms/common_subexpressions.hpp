#pragma once
#include "transforms/pass_manager.hpp"

namespace kiln {

/// Merges nodes that compute the same thing: same op, attributes and inputs (after earlier
/// merges), and small constants with equal type, shape and bytes. Exported graphs repeat shape
/// arithmetic and constants per layer; merging them shrinks the plan and lets fusions see one
/// producer. Stateful and control-flow nodes are never merged.
class EliminateCommonSubexpressions : public ModelPass {
public:
    explicit EliminateCommonSubexpressions(int64_t max_constant_bytes = 4096)
        : max_constant_bytes_(max_constant_bytes) {}
    std::string name() const override { return "EliminateCommonSubexpressions"; }
    bool run(Model& model) override;

private:
    int64_t max_constant_bytes_;
};

}  // namespace kiln
