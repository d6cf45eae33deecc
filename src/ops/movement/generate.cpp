#include "ops/movement/movement_utils.hpp"
namespace kiln::movement {
void register_generate_ops(OpRegistry& r) { (void)r; }
}  // namespace kiln::movement
