#pragma once
// Builds the decompression subgraph of docs/GENAI.md ("Compressed weights") by hand, with random
// low-bit values, for the tests of the constant-folding guard, the fusion pass and the kernels.
#include <random>

#include "kiln/node.hpp"
#include "test_helpers.hpp"

namespace kiln::test_data {

enum class LowBitMode { int8_sym, int8_asym, int4_sym, int4_asym };

inline const char* mode_name(LowBitMode m) {
    switch (m) {
        case LowBitMode::int8_sym: return "int8_sym";
        case LowBitMode::int8_asym: return "int8_asym";
        case LowBitMode::int4_sym: return "int4_sym";
        case LowBitMode::int4_asym: return "int4_asym";
    }
    return "?";
}

/// Random integers of `type` (i8, u8, i4, u4; 4-bit ones packed two per byte, low nibble first).
inline Tensor random_lowbit(ElementType type, Shape shape, uint32_t seed) {
    Tensor t(type, std::move(shape));
    std::mt19937 gen(seed);
    auto* b = static_cast<uint8_t*>(t.raw_data());
    const bool four = type == ElementType::i4 || type == ElementType::u4;
    std::uniform_int_distribution<int> dist(0, four ? 15 : 255);
    for (int64_t i = 0; i < t.size(); ++i) {
        const int v = dist(gen);
        if (four)
            b[i / 2] = static_cast<uint8_t>(b[i / 2] | (v << (4 * (i & 1))));
        else
            b[i] = static_cast<uint8_t>(v);
    }
    return t;
}

/// The parts of one compressed weight: its f32 [N, K] value is `out`.
struct CompressedWeight {
    Output out;
    std::shared_ptr<Node> lowbit, convert;
};

/// W [n, k] compressed in `mode` (group = 0: one scale per row, else groups of `group` along K,
/// which int4 needs), as the compressor writes it; scales around 0.01.
inline CompressedWeight make_compressed_weight(LowBitMode mode, int64_t n, int64_t k,
                                               int64_t group, uint32_t seed) {
    const bool four = mode == LowBitMode::int4_sym || mode == LowBitMode::int4_asym;
    const bool asym = mode == LowBitMode::int8_asym || mode == LowBitMode::int4_asym;
    const ElementType type = four ? (asym ? ElementType::u4 : ElementType::i4)
                                  : (asym ? ElementType::u8 : ElementType::i8);
    const bool grouped = group > 0;
    const Shape w_shape = grouped ? Shape{n, k / group, group} : Shape{n, k};
    const Shape s_shape = grouped ? Shape{n, k / group, 1} : Shape{n, 1};
    CompressedWeight cw;
    cw.lowbit = make_constant(random_lowbit(type, w_shape, seed), "w_compressed");
    cw.convert = make_node("Convert", {cw.lowbit->output(0)}, {{"destination_type", "f32"}});
    cw.convert->rt_info()["decompression"] = "";
    Output v = cw.convert->output(0);
    if (asym) {
        auto zp = make_constant(random_lowbit(type, s_shape, seed + 1), "zp");
        auto zc = make_node("Convert", {zp->output(0)}, {{"destination_type", "f32"}});
        zc->rt_info()["decompression"] = "";
        v = make_op("Subtract", {v, zc->output(0)});
    }
    v = make_op("Multiply",
                {v, make_constant(random_f32(s_shape, seed + 2, 0.005f, 0.02f))->output(0)});
    if (grouped) {
        Tensor target(ElementType::i64, Shape{2});
        target.data<int64_t>()[0] = n;
        target.data<int64_t>()[1] = k;
        v = make_op("Reshape", {v, make_constant(target)->output(0)}, {{"special_zero", false}});
    }
    cw.out = v;
    return cw;
}

}  // namespace kiln::test_data
