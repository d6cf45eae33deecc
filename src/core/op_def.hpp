#pragma once
// OpDef: an operation's shape/type inference and reference kernel. The registry storage lives in
// core; src/ops fills it (see src/ops/op_families.inc) and exposes make_node.
#include <map>
#include <string>
#include <vector>

#include "kiln/model.hpp"
#include "kiln/node.hpp"
#include "kiln/tensor.hpp"

namespace kiln {

namespace cpu {
class ThreadPool;
}  // namespace cpu

/// What shape inference sees: input types and shapes, and input values where known (constants
/// at graph-build time, every input at run time). It fills the outputs.
class ShapeContext {
public:
    ShapeContext(const Node& node, std::vector<ElementType> in_types,
                 std::vector<PartialShape> in_shapes, std::vector<const Tensor*> in_values)
        : node_(node),
          in_types_(std::move(in_types)),
          in_shapes_(std::move(in_shapes)),
          in_values_(std::move(in_values)) {}

    const Node& node() const { return node_; }
    const Attributes& attrs() const { return node_.attrs(); }
    size_t input_count() const { return in_types_.size(); }
    ElementType input_type(size_t i) const { return in_types_.at(i); }
    const PartialShape& input_shape(size_t i) const { return in_shapes_.at(i); }
    /// Input value if known (constant), else null.
    const Tensor* input_value(size_t i) const { return i < in_values_.size() ? in_values_[i] : nullptr; }

    void set_output(size_t i, ElementType type, PartialShape shape) {
        if (out_types_.size() <= i) {
            out_types_.resize(i + 1, ElementType::dynamic);
            out_shapes_.resize(i + 1);
        }
        out_types_[i] = type;
        out_shapes_[i] = std::move(shape);
    }
    const std::vector<ElementType>& output_types() const { return out_types_; }
    const std::vector<PartialShape>& output_shapes() const { return out_shapes_; }

    /// Throws kiln::Error prefixed with the node context unless cond holds.
    template <class... Args>
    void check(bool cond, const Args&... args) const {
        if (!cond) throw Error(str_cat(node_.context(), " ", args...));
    }
    template <class... Args>
    [[noreturn]] void fail(const Args&... args) const {
        throw Error(str_cat(node_.context(), " ", args...));
    }
    /// Checks the input count is within [lo, hi].
    void expect_inputs(size_t lo, size_t hi) const;
    void expect_inputs(size_t n) const { expect_inputs(n, n); }

private:
    const Node& node_;
    std::vector<ElementType> in_types_;
    std::vector<PartialShape> in_shapes_;
    std::vector<const Tensor*> in_values_;
    std::vector<ElementType> out_types_;
    std::vector<PartialShape> out_shapes_;
};

/// Per-request state visible to kernels: variables of stateful models (ReadValue/Assign).
struct ExecContext {
    std::map<std::string, Tensor>* variables = nullptr;
    /// The threads of the stream running this request (CPU device kernels split work over it);
    /// null in reference-only evaluation.
    cpu::ThreadPool* threads = nullptr;
};

using TensorVector = std::vector<Tensor>;
using InferFn = void (*)(ShapeContext&);
/// Reference kernel: reads inputs, allocates and fills outputs (usually via allocate_outputs).
using EvalFn = void (*)(const Node&, const TensorVector& inputs, TensorVector& outputs,
                        ExecContext& ctx);

struct OpDef {
    std::string type;     // OpenVINO type name, e.g. "Convolution"
    std::string version;  // opset it follows, e.g. "opset1"
    InferFn infer = nullptr;
    EvalFn eval = nullptr;
};

class OpRegistry {
public:
    /// The storage; use kiln::op_registry() (src/ops) to get it populated.
    static OpRegistry& instance();
    void add(OpDef def);
    /// Null when the type is not registered.
    const OpDef* find(const std::string& type) const;
    std::vector<std::string> types() const;

private:
    std::map<std::string, OpDef> defs_;
};

/// Runs shape inference with concrete inputs and allocates each output with its node type.
void allocate_outputs(const Node& node, const TensorVector& inputs, TensorVector& outputs);
/// Concrete output shapes for concrete inputs.
std::vector<Shape> runtime_output_shapes(const Node& node, const TensorVector& inputs);

}  // namespace kiln
