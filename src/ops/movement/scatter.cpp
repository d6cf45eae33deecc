#include "ops/movement/movement_utils.hpp"
namespace kiln::movement {
void register_scatter_ops(OpRegistry& r) { (void)r; }
}  // namespace kiln::movement
