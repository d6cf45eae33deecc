// ONNX sequence operators over sequences whose length is known while the model is read (the
// usual case: built by SequenceConstruct / SplitToSequence with constant positions). The frontend
// keeps such a sequence as a list of tensor values, so these ops translate into plain tensor ops
// (Split, Concat, Unsqueeze) and the core graph needs no sequence type.
#include "frontends/onnx/graph_context.hpp"
#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {

namespace {

const OutputVector& seq_input(const NodeContext& ctx, size_t i) {
    ctx.check(ctx.has_input(i), "input ", i, " is required but missing");
    return ctx.graph().sequence(ctx.proto().input(static_cast<int>(i)));
}

void bind_output(const NodeContext& ctx, OutputVector elements) {
    ctx.check(ctx.has_output(0), "has no output");
    ctx.graph().bind_sequence(ctx.proto().output(0), std::move(elements));
}

// A position input: a constant scalar in [-n, n] (or [-n, n-1] when `inclusive_end` is false).
int64_t position(const NodeContext& ctx, size_t input, int64_t n, bool inclusive_end,
                 int64_t dflt) {
    if (!ctx.has_input(input)) return dflt;
    const Tensor* t = ctx.input_constant(input);
    ctx.check(t && t->size() == 1, "position input must be a constant scalar");
    int64_t p = t->value_as_int(0);
    const int64_t hi = inclusive_end ? n : n - 1;
    ctx.check(p >= -n && p <= hi, "position ", p, " is out of range for a sequence of ", n,
              " tensors");
    return p < 0 ? p + n : p;
}

OutputVector sequence_empty(const NodeContext& ctx) {
    bind_output(ctx, {});
    return {};
}

OutputVector sequence_construct(const NodeContext& ctx) {
    bind_output(ctx, ctx.inputs());
    return {};
}

OutputVector sequence_insert(const NodeContext& ctx) {
    OutputVector seq = seq_input(ctx, 0);
    const int64_t n = static_cast<int64_t>(seq.size());
    seq.insert(seq.begin() + position(ctx, 2, n, true, n), ctx.input(1));
    bind_output(ctx, std::move(seq));
    return {};
}

OutputVector sequence_erase(const NodeContext& ctx) {
    OutputVector seq = seq_input(ctx, 0);
    const int64_t n = static_cast<int64_t>(seq.size());
    ctx.check(n > 0, "cannot erase from an empty sequence");
    seq.erase(seq.begin() + position(ctx, 1, n, false, n - 1));
    bind_output(ctx, std::move(seq));
    return {};
}

OutputVector sequence_at(const NodeContext& ctx) {
    const OutputVector& seq = seq_input(ctx, 0);
    const int64_t n = static_cast<int64_t>(seq.size());
    ctx.check(ctx.has_input(1), "needs a position");
    return {seq[position(ctx, 1, n, false, 0)]};
}

OutputVector sequence_length(const NodeContext& ctx) {
    return {ctx.scalar<int64_t>(static_cast<int64_t>(seq_input(ctx, 0).size()))};
}

OutputVector split_to_sequence(const NodeContext& ctx) {
    Output x = ctx.input(0);
    const PartialShape& shape = x.partial_shape();
    ctx.check(shape.rank_is_static(), "needs an input of known rank");
    const int64_t rank = shape.rank();
    int64_t axis = ctx.attr_int("axis", 0);
    ctx.check(axis >= -rank && axis < rank, "axis ", axis, " is out of range for rank ", rank);
    if (axis < 0) axis += rank;
    Output axis_c = ctx.scalar<int64_t>(axis);
    OutputVector parts;
    if (!ctx.has_input(1)) {
        // One element per index along the axis, squeezed unless keepdims.
        ctx.check(shape[axis].is_static(), "needs a static dimension on the split axis");
        const int64_t n = shape[axis].get_length();
        parts = ctx.make("Split", {x, axis_c}, {{"num_splits", n}});
        if (!ctx.attr_int("keepdims", 1))
            for (auto& p : parts) p = ctx.op("Squeeze", {p, axis_c});
    } else {
        const PartialShape& split_shape = ctx.input(1).partial_shape();
        ctx.check(split_shape.rank_is_static(), "split input needs a known rank");
        if (split_shape.rank() == 0) {
            const Tensor* chunk = ctx.input_constant(1);
            ctx.check(chunk && shape[axis].is_static(),
                      "a scalar split needs a constant value and a static axis length");
            const int64_t len = shape[axis].get_length(), c = chunk->value_as_int(0);
            ctx.check(c > 0, "split size must be positive");
            std::vector<int64_t> sizes;
            for (int64_t done = 0; done < len; done += c) sizes.push_back(std::min(c, len - done));
            parts = ctx.make("VariadicSplit",
                             {x, axis_c, ctx.constant(sizes, {static_cast<int64_t>(sizes.size())})});
        } else {
            ctx.check(split_shape[0].is_static(), "split input needs a static length");
            parts = ctx.make("VariadicSplit", {x, axis_c, ctx.input(1)});
        }
    }
    bind_output(ctx, std::move(parts));
    return {};
}

OutputVector concat_from_sequence(const NodeContext& ctx) {
    OutputVector seq = seq_input(ctx, 0);
    ctx.check(!seq.empty(), "cannot concatenate an empty sequence");
    int64_t axis = ctx.attr_int("axis");
    if (ctx.attr_int("new_axis", 0)) {
        const int64_t rank = seq[0].partial_shape().rank() + 1;
        ctx.check(axis >= -rank && axis < rank, "axis ", axis, " is out of range");
        if (axis < 0) axis += rank;
        for (auto& s : seq) s = ctx.op("Unsqueeze", {s, ctx.scalar<int64_t>(axis)});
    }
    return {ctx.op("Concat", seq, {{"axis", axis}})};
}

}  // namespace

void register_sequence_translators(TranslatorRegistry& r) {
    r.add("SequenceEmpty", sequence_empty);
    r.add("SequenceConstruct", sequence_construct);
    r.add("SequenceInsert", sequence_insert);
    r.add("SequenceErase", sequence_erase);
    r.add("SequenceAt", sequence_at);
    r.add("SequenceLength", sequence_length);
    r.add("SplitToSequence", split_to_sequence);
    r.add("ConcatFromSequence", concat_from_sequence);
}

}  // namespace kiln::onnx_fe
