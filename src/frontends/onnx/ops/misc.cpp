// Identity and the signal / text ops: DFT, STFT, MelWeightMatrix, StringNormalizer,
// TfIdfVectorizer, HannWindow, HammingWindow, BlackmanWindow.
#include "core/dispatch.hpp"
#include "frontends/onnx/translator_registry.hpp"

namespace kiln::onnx_fe {

namespace {
OutputVector identity(const NodeContext& ctx) { return {ctx.input(0)}; }

Output typed_scalar(const NodeContext& ctx, ElementType t, double v) {
    Tensor s(t, {});
    dispatch_float(t, [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        *s.data<T>() = static_cast<T>(static_cast<float>(v));
    });
    return ctx.constant(s);
}

// A scalar (or 1-element) integer input as a 1-D [1] value.
Output as_vector1(const NodeContext& ctx, size_t i) {
    if (const Tensor* c = ctx.input_constant(i))
        return ctx.constant(std::vector<int64_t>{c->value_as_int(0)}, {1});
    return ctx.op("Reshape", {ctx.input(i), ctx.constant(std::vector<int64_t>{1}, {1})},
                  {{"special_zero", false}});
}

// ONNX DFT-17: [batch, ..., 1|2] with the transform along `axis`; output always complex.
OutputVector dft(const NodeContext& ctx) {
    Output x = ctx.input(0);
    const PartialShape& s = x.partial_shape();
    ctx.check(s.rank_is_static() && s[s.size() - 1].is_static(),
              "needs a static rank and a static last axis");
    const int64_t r = s.rank(), last = s[s.size() - 1].get_length();
    ctx.check(last == 1 || last == 2, "the last axis must be 1 (real) or 2 (complex)");
    int64_t axis = ctx.attr_int("axis", 1);
    if (axis < 0) axis += r;
    ctx.check(axis >= 0 && axis < r - 1, "axis ", ctx.attr_int("axis", 1), " is out of range");
    const bool inverse = ctx.attr_int("inverse", 0) != 0;
    const bool onesided = ctx.attr_int("onesided", 0) != 0;
    OutputVector args{Output{}, ctx.constant(std::vector<int64_t>{axis}, {1})};
    if (ctx.has_input(1)) args.push_back(as_vector1(ctx, 1));
    if (last == 1 && onesided && !inverse) {
        args[0] = ctx.op("Squeeze", {x, ctx.constant(std::vector<int64_t>{r - 1}, {1})});
        return {ctx.op("RDFT", args)};
    }
    ctx.check(!onesided, "onesided output is supported for real forward transforms only");
    if (last == 1) {
        Output zeros = ctx.op("Broadcast", {typed_scalar(ctx, x.element_type(), 0),
                                            ctx.op("ShapeOf", {x})},
                              {{"mode", std::string("numpy")}});
        x = ctx.op("Concat", {x, zeros}, {{"axis", int64_t{r - 1}}});
    }
    args[0] = x;
    return {ctx.op(inverse ? "IDFT" : "DFT", args)};
}

// ONNX STFT-17: signal [batch, length, 1], frame_step, window?, frame_length? -> onesided
// [batch, frames, bins, 2]. A missing window is rectangular.
OutputVector stft(const NodeContext& ctx) {
    Output sig = ctx.input(0);
    const PartialShape& s = sig.partial_shape();
    ctx.check(s.rank_is_static() && s.rank() == 3 && s[2] == Dimension(1),
              "supports real signals [batch, length, 1] only");
    ctx.check(ctx.attr_int("onesided", 1) != 0, "supports onesided output only");
    ctx.check(ctx.has_input(2) || ctx.has_input(3), "needs a window or a frame_length");
    sig = ctx.op("Squeeze", {sig, ctx.constant(std::vector<int64_t>{2}, {1})});
    Output frame_size, window;
    if (ctx.has_input(3)) {
        frame_size = ctx.input(3);
    } else {
        const PartialShape& ws = ctx.input(2).partial_shape();
        ctx.check(ws.is_static() && ws.rank() == 1, "needs a static window length");
        frame_size = ctx.scalar(ws[0].get_length());
    }
    if (ctx.has_input(2)) {
        window = ctx.input(2);
    } else {
        window = ctx.op("Broadcast", {typed_scalar(ctx, sig.element_type(), 1), as_vector1(ctx, 3)},
                        {{"mode", std::string("numpy")}});
    }
    return {ctx.op("STFT", {sig, window, frame_size, ctx.input(1)}, {{"transpose_frames", false}})};
}

std::string onnx_float_type(int64_t dt) {
    switch (dt) {
        case 1: return "f32";
        case 10: return "f16";
        case 11: return "f64";
        case 16: return "bf16";
        default: return "";
    }
}

OutputVector mel_weight_matrix(const NodeContext& ctx) {
    const std::string t = onnx_float_type(ctx.attr_int("output_datatype", 1));
    ctx.check(!t.empty(), "output_datatype must be a floating-point type");
    return {ctx.op("MelWeightMatrix", ctx.inputs(), {{"output_datatype", t}})};
}

std::string onnx_numeric_type(int64_t dt) {
    switch (dt) {
        case 2: return "u8";
        case 3: return "i8";
        case 4: return "u16";
        case 5: return "i16";
        case 6: return "i32";
        case 7: return "i64";
        case 12: return "u32";
        case 13: return "u64";
        default: return onnx_float_type(dt);
    }
}

// The window ops' ONNX function bodies need Range; a direct op is simpler.
OutputVector window(const NodeContext& ctx) {
    const std::string t = onnx_numeric_type(ctx.attr_int("output_datatype", 1));
    ctx.check(!t.empty(), "unsupported output_datatype");
    return {ctx.op(ctx.op_type(), {ctx.input(0)},
                   {{"output_datatype", t}, {"periodic", bool{ctx.attr_int("periodic", 1) != 0}}})};
}

OutputVector string_normalizer(const NodeContext& ctx) {
    Attributes a{{"case_change_action", ctx.attr_string("case_change_action", "NONE")},
                 {"is_case_sensitive", bool{ctx.attr_int("is_case_sensitive", 0) != 0}}};
    if (ctx.has_attr("stopwords")) a.set("stopwords", ctx.attr_strings("stopwords"));
    if (ctx.has_attr("locale")) a.set("locale", ctx.attr_string("locale"));
    return {ctx.op("StringNormalizer", {ctx.input(0)}, a)};
}

OutputVector tfidf_vectorizer(const NodeContext& ctx) {
    Attributes a{{"mode", ctx.attr_string("mode")},
                 {"min_gram_length", int64_t{ctx.attr_int("min_gram_length")}},
                 {"max_gram_length", int64_t{ctx.attr_int("max_gram_length")}},
                 {"max_skip_count", int64_t{ctx.attr_int("max_skip_count")}},
                 {"ngram_counts", ctx.attr_ints("ngram_counts")},
                 {"ngram_indexes", ctx.attr_ints("ngram_indexes")}};
    if (ctx.has_attr("pool_strings")) a.set("pool_strings", ctx.attr_strings("pool_strings"));
    if (ctx.has_attr("pool_int64s")) a.set("pool_int64s", ctx.attr_ints("pool_int64s"));
    if (ctx.has_attr("weights")) {
        auto w = ctx.attr_floats("weights");
        a.set("weights", std::vector<double>(w.begin(), w.end()));
    }
    return {ctx.op("TfIdfVectorizer", {ctx.input(0)}, a)};
}

}  // namespace

void register_misc_translators(TranslatorRegistry& r) {
    r.add("Identity", identity);
    r.add("DFT", dft);
    r.add("STFT", stft);
    r.add("MelWeightMatrix", mel_weight_matrix);
    r.add("HannWindow", window);
    r.add("HammingWindow", window);
    r.add("BlackmanWindow", window);
    r.add("StringNormalizer", string_normalizer);
    r.add("TfIdfVectorizer", tfidf_vectorizer);
}

}  // namespace kiln::onnx_fe
