#pragma once
// Small helpers shared by the pattern-fusion passes: who consumes an output, and whether an input
// is a constant of a given value.
#include <map>
#include <vector>

#include "kiln/model.hpp"

namespace kiln::fusion {

/// Consumers of every output of a model, taken once before a pass rewrites it. Rewrites only
/// ever detach consumers, so counts read later are conservative (never too low).
class Uses {
public:
    explicit Uses(const Model& model);
    size_t count(const Output& o) const;
    /// The one node consuming `o` (once), or null when it has none or several uses.
    std::shared_ptr<Node> single(const Output& o) const;

private:
    std::map<Output, std::vector<std::shared_ptr<Node>>> uses_;
};

/// The constant value of `o` when it comes from a Const node, else null.
const Tensor* constant_of(const Output& o);
/// Whether `o` is a floating-point constant whose every element is within a relative `tol` of v.
bool is_constant_near(const Output& o, double v, double tol = 1e-4);
/// For a two-input node, the input that is not `x` (null Output when neither input is x).
Output other_input(const Node& n, const Output& x);
/// `n` is a two-input node of `type` with `x` as one input; returns the other input via `other`.
bool binary_with(const Node& n, const char* type, const Output& x, Output* other);

/// A bias a linear layer's output `y` (of `n` channels) feeds into: the single consumer of `y`
/// is an Add of a constant of `type` with n elements along its last axis that keeps y's shape.
/// Returns that Add and sets `bias` to the constant as [n]; null when there is none.
std::shared_ptr<Node> constant_bias_add(const Uses& uses, const Output& y, int64_t n,
                                        ElementType type, Tensor* bias);

}  // namespace kiln::fusion
