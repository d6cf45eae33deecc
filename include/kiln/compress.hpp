#pragma once
/// \file Weight compression (in the spirit of NNCF's compress_weights): the constant weights of
/// MatMul layers and embedding tables become 8-bit or 4-bit integers plus a decompression
/// subgraph, in the form of OpenVINO's compressed IR (see docs/GENAI.md, "Weight compression").
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/model.hpp"

namespace kiln {

/// The precision of the compressed layers. 8-bit modes quantize per output channel; 4-bit modes
/// per group of `group_size` input channels.
enum class CompressionMode { int8_sym, int8_asym, int4_sym, int4_asym };
/// The precision of the layers the 4-bit mode does not take (`ratio` < 1, group size not dividing
/// the layer); `none` leaves them in floating point.
enum class BackupMode { int8_asym, int8_sym, none };

std::string_view to_string(CompressionMode m);
std::string_view to_string(BackupMode m);
/// Parse "int4_asym", ...; an unknown name throws kiln::Error listing the valid ones.
CompressionMode compression_mode_from_string(std::string_view name);
BackupMode backup_mode_from_string(std::string_view name);

struct WeightCompressionConfig {
    CompressionMode mode = CompressionMode::int8_asym;
    /// Input channels per scale in 4-bit modes; -1: one group per output channel.
    int64_t group_size = 128;
    /// 4-bit modes: the share of the eligible weights (by parameter count) put in 4 bits, the
    /// least sensitive layers first; the rest use `backup`. Must be in [0, 1].
    double ratio = 1.0;
    BackupMode backup = BackupMode::int8_asym;
    /// Put the embedding table and the output projection in the 4-bit mode too (by default they
    /// stay in 8 bits: the backup mode, or int8_asym when the backup is `none`).
    bool all_layers = false;
};

/// Throws kiln::Error explaining the first invalid setting.
void validate(const WeightCompressionConfig& config);

/// What happened to one weight.
struct CompressedLayer {
    std::string name;       ///< the weight constant's name
    Shape shape;            ///< [N, K]: output channels x input channels (embeddings: rows x width)
    int bits = 32;          ///< 4, 8, or 32 where the weight stayed in floating point
    std::string precision;  ///< "int4_asym", "int8_sym", ..., or "float"
    int64_t group_size = 0;   ///< input channels per scale; 0 = one scale per output channel
    std::string role;         ///< "embedding", "output", "embedding+output" or empty
    std::string reason;       ///< why a 4-bit run left it in the backup precision (empty otherwise)
    double sensitivity = -1;  ///< relative int4 error ||W - dq(q(W))|| / ||W||; -1: not measured
    int64_t params = 0;
    size_t bytes_before = 0;  ///< of the weight as stored in the model before
    size_t bytes_after = 0;   ///< of the packed weight, scales and zero points
};

struct WeightCompressionReport {
    std::vector<CompressedLayer> layers;
    /// Constants read by MatMul or Gather that were left alone, with the reason.
    std::vector<std::string> skipped;
    /// All constants of the model (weights, biases, shapes, ...), before and after.
    size_t model_bytes_before = 0;
    size_t model_bytes_after = 0;

    int64_t params() const;
    int64_t params_with_bits(int bits) const;
    size_t layer_bytes_before() const;
    size_t layer_bytes_after() const;
    /// Stored bits per weight over the layers, scales and zero points included.
    double bits_per_weight() const;
    /// Share of the layers' parameters stored in 4 bits.
    double share_4bit() const;
};

/// Called as the work goes: `done` of `total` steps, the layer just handled.
using CompressionProgress =
    std::function<void(size_t done, size_t total, const std::string& layer)>;

/// Rewrites `model` in place. Which weights: constant 2-D weights of MatMul (either transpose_b;
/// [K, N] weights are transposed to [N, K] with transpose_b = true) and the data of Gather on
/// axis 0 (embeddings); a constant read by several such nodes is compressed once. Throws
/// kiln::Error on an invalid config or non-finite weights (the model is then unchanged).
WeightCompressionReport compress_weights(Model& model, const WeightCompressionConfig& config,
                                         const CompressionProgress& progress = {});

}  // namespace kiln
