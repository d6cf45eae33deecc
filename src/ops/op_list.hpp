#pragma once
#include "core/op_def.hpp"

namespace kiln {
/// The registry with every op family registered (done once, on first use).
const OpRegistry& op_registry();
}  // namespace kiln
