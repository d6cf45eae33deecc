// compress_weights: choose a precision per weight, quantize them all, then rewrite the graph.
#include <algorithm>
#include <optional>
#include <set>
#include <sstream>

#include "compress/decompression_subgraph.hpp"
#include "compress/quantize.hpp"
#include "compress/weight_sites.hpp"
#include "kiln/compress.hpp"

namespace kiln {
namespace {

using compress::QuantScheme;
using compress::WeightSite;

bool is_4bit(CompressionMode m) {
    return m == CompressionMode::int4_sym || m == CompressionMode::int4_asym;
}

QuantScheme scheme_of(CompressionMode m, int64_t group_size) {
    const bool sym = m == CompressionMode::int8_sym || m == CompressionMode::int4_sym;
    if (!is_4bit(m)) return {8, sym, 0};
    return {4, sym, group_size == -1 ? 0 : group_size};
}

std::optional<CompressionMode> backup_of(BackupMode b) {
    if (b == BackupMode::none) return std::nullopt;
    return b == BackupMode::int8_sym ? CompressionMode::int8_sym : CompressionMode::int8_asym;
}

// The precision a layer gets before --ratio is applied.
struct Choice {
    std::optional<CompressionMode> mode;  // none: stays in floating point
    std::string reason;
    bool ratio_defining = false;  // counts in the denominator of --ratio
    bool candidate = false;       // may take the 4-bit mode
};

Choice choose(const WeightSite& s, const WeightCompressionConfig& c) {
    if (!is_4bit(c.mode)) return {c.mode, "", false, false};
    if ((s.embedding || s.output) && !c.all_layers) {
        // The first and last layers matter most to accuracy: 8 bits whatever the backup.
        return {backup_of(c.backup).value_or(CompressionMode::int8_asym),
                s.embedding ? "embedding" : "output projection", false, false};
    }
    const int64_t g = c.group_size == -1 ? s.cols : c.group_size;
    if (s.cols % g != 0) {
        return {
            backup_of(c.backup),
            "K=" + std::to_string(s.cols) + " is not a multiple of group size " + std::to_string(g),
            true, false};
    }
    return {c.mode, "", true, true};
}

// A group size that divides no layer it applies to is a mistake, not a request for int8.
void check_group_size_fits(const std::vector<WeightSite>& sites, const std::vector<Choice>& choices,
                           const WeightCompressionConfig& c) {
    std::set<int64_t> ks;
    size_t ratio_defining = 0;
    for (size_t i = 0; i < sites.size(); ++i) {
        if (choices[i].candidate) return;
        if (!choices[i].ratio_defining) continue;
        ++ratio_defining;
        ks.insert(sites[i].cols);
    }
    if (ratio_defining == 0) return;
    std::string list;
    for (int64_t k : ks) list += (list.empty() ? "" : ", ") + std::to_string(k);
    KILN_THROW("group size ", c.group_size, " divides the input size K of none of the ",
               ratio_defining, " layers it applies to (K: ", list,
               "); pick a divisor of K, or -1 for one group per row");
}

std::string role_of(const WeightSite& s) {
    if (s.embedding && s.output) return "embedding+output";
    if (s.embedding) return "embedding";
    return s.output ? "output" : "";
}

size_t constant_bytes(const Model& m) {
    size_t n = 0;
    for (const auto& node : m.ordered_ops()) {
        if (node->type() == "Const") n += node->value().byte_size();
        for (const auto& body : node->bodies())
            if (body) n += constant_bytes(*body);
    }
    return n;
}

std::string format_ratio(double r) {
    std::ostringstream ss;
    ss << r;
    return ss.str();
}

}  // namespace

WeightCompressionReport compress_weights(Model& model, const WeightCompressionConfig& config,
                                         const CompressionProgress& progress) {
    validate(config);
    WeightCompressionReport report;
    report.model_bytes_before = constant_bytes(model);
    compress::SiteScan scan = compress::find_weight_sites(model);
    report.skipped = std::move(scan.skipped);
    std::vector<WeightSite>& sites = scan.sites;

    std::vector<Choice> choices;
    int64_t ratio_params = 0;
    std::vector<size_t> candidates;
    for (size_t i = 0; i < sites.size(); ++i) {
        choices.push_back(choose(sites[i], config));
        if (choices[i].ratio_defining) ratio_params += sites[i].rows * sites[i].cols;
        if (choices[i].candidate) candidates.push_back(i);
    }

    check_group_size_fits(sites, choices, config);

    const bool mixed = is_4bit(config.mode) && config.ratio < 1.0;
    const size_t total_steps = (mixed ? candidates.size() : 0) + sites.size();
    size_t done = 0;
    auto step = [&](const std::string& layer) {
        if (progress) progress(++done, total_steps, layer);
    };

    // --ratio: the layers whose weights suffer least from the 4-bit mode take it first.
    std::vector<double> sensitivity(sites.size(), -1.0);
    if (mixed) {
        const QuantScheme s4 = scheme_of(config.mode, config.group_size);
        for (size_t i : candidates) {
            const WeightSite& s = sites[i];
            const Tensor w = s.weights_nk();
            try {
                sensitivity[i] = compress::relative_error(w.data<float>(), s.rows, s.cols, s4);
            } catch (const Error& e) {
                KILN_THROW("weight '", s.name, "': ", e.what());
            }
            step(s.name);
        }
        std::vector<size_t> order = candidates;
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return sensitivity[a] < sensitivity[b]; });
        int64_t params_4bit = 0;
        for (size_t i : order) {
            if (static_cast<double>(params_4bit) >=
                config.ratio * static_cast<double>(ratio_params)) {
                choices[i].mode = backup_of(config.backup);
                choices[i].reason = "ratio " + format_ratio(config.ratio);
            } else {
                params_4bit += sites[i].rows * sites[i].cols;
            }
        }
    }

    // Quantize everything before touching the graph, so an error leaves the model as it was.
    std::vector<std::optional<compress::QuantizedWeight>> quantized(sites.size());
    for (size_t i = 0; i < sites.size(); ++i) {
        const WeightSite& s = sites[i];
        CompressedLayer layer;
        layer.name = s.name;
        layer.shape = {s.rows, s.cols};
        layer.role = role_of(s);
        layer.reason = choices[i].reason;
        layer.sensitivity = sensitivity[i];
        layer.params = s.rows * s.cols;
        layer.bytes_before = s.stored_bytes();
        layer.bytes_after = layer.bytes_before;
        layer.precision = "float";
        if (const auto mode = choices[i].mode) {
            const QuantScheme scheme = scheme_of(*mode, config.group_size);
            const Tensor w = s.weights_nk();
            try {
                quantized[i] = compress::quantize(w.data<float>(), s.rows, s.cols, scheme);
            } catch (const Error& e) {
                KILN_THROW("weight '", s.name, "': ", e.what());
            }
            layer.bits = scheme.bits;
            layer.precision = std::string(to_string(*mode));
            layer.group_size = scheme.group_size;
            layer.bytes_after = quantized[i]->byte_size();
        }
        report.layers.push_back(std::move(layer));
        step(s.name);
    }

    for (size_t i = 0; i < sites.size(); ++i) {
        if (!quantized[i]) continue;
        const WeightSite& s = sites[i];
        const Output out = compress::build_decompression(*quantized[i], s.rows, s.cols, s.name);
        auto& names = s.value.node->output_info(s.value.index).names;
        out.node->output_info(out.index).names = names;
        names.clear();
        for (const auto& u : s.uses) {
            u.node->set_input(u.port, out);
            if (s.transposed) u.node->attrs().set("transpose_b", true);
            u.node->infer();
        }
    }
    model.infer_types();
    report.model_bytes_after = constant_bytes(model);

    auto& rt = model.rt_info();
    rt["weight_compression/mode"] = std::string(to_string(config.mode));
    if (is_4bit(config.mode)) {
        rt["weight_compression/group_size"] = std::to_string(config.group_size);
        rt["weight_compression/ratio"] = format_ratio(config.ratio);
        rt["weight_compression/backup_mode"] = std::string(to_string(config.backup));
        rt["weight_compression/all_layers"] = config.all_layers ? "true" : "false";
    }
    return report;
}

}  // namespace kiln
