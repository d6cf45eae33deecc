#include "core/op_def.hpp"

namespace kiln {

void register_rnn_ops(OpRegistry& r);
void register_rnn_openvino_ops(OpRegistry& r);
void register_nms_ops(OpRegistry& r);
void register_subgraph_ops(OpRegistry& r);
void register_tensor_iterator_ops(OpRegistry& r);

void register_control_ops(OpRegistry& r) {
    register_rnn_ops(r);
    register_rnn_openvino_ops(r);
    register_nms_ops(r);
    register_subgraph_ops(r);
    register_tensor_iterator_ops(r);
}

}  // namespace kiln
