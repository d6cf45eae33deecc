// Names and validation of the compression settings, and the report's totals.
#include <cmath>

#include "kiln/compress.hpp"
#include "kiln/error.hpp"

namespace kiln {

std::string_view to_string(CompressionMode m) {
    switch (m) {
        case CompressionMode::int8_sym:
            return "int8_sym";
        case CompressionMode::int8_asym:
            return "int8_asym";
        case CompressionMode::int4_sym:
            return "int4_sym";
        case CompressionMode::int4_asym:
            return "int4_asym";
    }
    return "?";
}

std::string_view to_string(BackupMode m) {
    switch (m) {
        case BackupMode::int8_asym:
            return "int8_asym";
        case BackupMode::int8_sym:
            return "int8_sym";
        case BackupMode::none:
            return "none";
    }
    return "?";
}

CompressionMode compression_mode_from_string(std::string_view name) {
    for (auto m : {CompressionMode::int8_sym, CompressionMode::int8_asym, CompressionMode::int4_sym,
                   CompressionMode::int4_asym})
        if (name == to_string(m)) return m;
    KILN_THROW("unknown compression mode '", name,
               "' (expected int8_sym, int8_asym, int4_sym or int4_asym)");
}

BackupMode backup_mode_from_string(std::string_view name) {
    for (auto m : {BackupMode::int8_asym, BackupMode::int8_sym, BackupMode::none})
        if (name == to_string(m)) return m;
    KILN_THROW("unknown backup mode '", name, "' (expected int8_asym, int8_sym or none)");
}

void validate(const WeightCompressionConfig& c) {
    KILN_CHECK(c.group_size > 0 || c.group_size == -1, "group size must be positive, or -1 for ",
               "one group per output channel; got ", c.group_size);
    KILN_CHECK(std::isfinite(c.ratio) && c.ratio >= 0.0 && c.ratio <= 1.0,
               "ratio must be in [0, 1], got ", c.ratio);
    const bool int4 = c.mode == CompressionMode::int4_sym || c.mode == CompressionMode::int4_asym;
    KILN_CHECK(int4 || c.ratio == 1.0, "ratio ", c.ratio, " applies to the 4-bit modes only (",
               "mode ", to_string(c.mode), " compresses every layer to 8 bits)");
}

int64_t WeightCompressionReport::params() const {
    int64_t n = 0;
    for (const auto& l : layers) n += l.params;
    return n;
}

int64_t WeightCompressionReport::params_with_bits(int bits) const {
    int64_t n = 0;
    for (const auto& l : layers) n += l.bits == bits ? l.params : 0;
    return n;
}

size_t WeightCompressionReport::layer_bytes_before() const {
    size_t n = 0;
    for (const auto& l : layers) n += l.bytes_before;
    return n;
}

size_t WeightCompressionReport::layer_bytes_after() const {
    size_t n = 0;
    for (const auto& l : layers) n += l.bytes_after;
    return n;
}

double WeightCompressionReport::bits_per_weight() const {
    const int64_t p = params();
    return p ? 8.0 * static_cast<double>(layer_bytes_after()) / static_cast<double>(p) : 0.0;
}

double WeightCompressionReport::share_4bit() const {
    const int64_t p = params();
    return p ? static_cast<double>(params_with_bits(4)) / static_cast<double>(p) : 0.0;
}

}  // namespace kiln
