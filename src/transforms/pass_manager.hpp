#pragma once
// Graph passes: each pass rewrites a Model in place and reports whether it changed anything.
// The PassManager runs an ordered list; pipelines.cpp says which passes a device gets.
#include <memory>
#include <string>
#include <vector>

#include "kiln/model.hpp"

namespace kiln {

class ModelPass {
public:
    virtual ~ModelPass() = default;
    virtual std::string name() const = 0;
    /// Returns true when the model changed.
    virtual bool run(Model& model) = 0;
};

class PassManager {
public:
    template <class P, class... Args>
    PassManager& add(Args&&... args) {
        passes_.push_back(std::make_unique<P>(std::forward<Args>(args)...));
        return *this;
    }
    /// Runs every pass once, in order; returns true when any changed the model.
    bool run(Model& model);

private:
    std::vector<std::unique_ptr<ModelPass>> passes_;
};

/// Replaces every use of `from` by `to` among the nodes of `model`, moving its tensor names.
void replace_output(Model& model, const Output& from, const Output& to);

/// The passes every device runs before compiling.
void run_common_passes(Model& model);
/// The CPU device's compile-time passes (fusions into kernels it runs fast), after the common ones.
void run_cpu_passes(Model& model);

}  // namespace kiln
