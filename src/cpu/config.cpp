#include "cpu/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "kiln/error.hpp"

namespace kiln::cpu {

namespace {

int parse_count(const std::string& name, const std::string& text, int min) {
    char* end = nullptr;
    const long n = std::strtol(text.c_str(), &end, 10);
    KILN_CHECK(!text.empty() && *end == '\0' && n >= min && n <= 1024, "CPU: ", name,
               " must be a number from ", min, " to 1024, got '", text, "'");
    return static_cast<int>(n);
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

bool parse_bool(const std::string& name, const std::string& text) {
    const std::string v = upper(text);
    KILN_CHECK(v == "YES" || v == "NO" || v == "TRUE" || v == "FALSE", "CPU: ", name,
               " must be YES or NO, got '", text, "'");
    return v == "YES" || v == "TRUE";
}

}  // namespace

int throughput_streams(int threads) {
    const int per_stream = threads <= 4 ? 1 : threads <= 16 ? 2 : 4;
    return std::max(1, threads / per_stream);
}

Config resolve_config(const AnyMap& given, int hardware_threads) {
    static const std::set<std::string> kKnown = {
        "PERFORMANCE_HINT", "NUM_STREAMS", "INFERENCE_NUM_THREADS", "INFERENCE_PRECISION_HINT",
        "KV_CACHE_PRECISION", "CACHE_DIR", "PERF_COUNT"};
    for (const auto& [k, v] : given)
        KILN_CHECK(kKnown.count(k), "CPU: unsupported property '", k, "' (supported: ",
                   "PERFORMANCE_HINT, NUM_STREAMS, INFERENCE_NUM_THREADS, ",
                   "INFERENCE_PRECISION_HINT, KV_CACHE_PRECISION, CACHE_DIR, PERF_COUNT)");
    const auto get = [&](const char* k) {
        auto it = given.find(k);
        return it == given.end() ? std::string() : it->second;
    };
    Config c;
    if (const std::string h = upper(get("PERFORMANCE_HINT")); !h.empty()) {
        KILN_CHECK(h == "LATENCY" || h == "THROUGHPUT" || h == "NONE" || h == "UNDEFINED",
                   "CPU: PERFORMANCE_HINT must be LATENCY, THROUGHPUT or NONE, got '",
                   get("PERFORMANCE_HINT"), "'");
        c.hint = h == "UNDEFINED" ? "NONE" : h;
    }
    if (const std::string p = get("INFERENCE_PRECISION_HINT"); !p.empty()) {
        KILN_CHECK(p == "f32" || p == "bf16",
                   "CPU: INFERENCE_PRECISION_HINT must be f32 or bf16, got '", p, "'");
        c.precision = p;
    }
    if (const std::string p = get("KV_CACHE_PRECISION"); !p.empty()) {
        KILN_CHECK(p == "f32" || p == "f16", "CPU: KV_CACHE_PRECISION must be f32 or f16, got '",
                   p, "'");
        c.kv_cache_precision = p;
    }
    c.cache_dir = get("CACHE_DIR");
    if (const std::string pc = get("PERF_COUNT"); !pc.empty()) c.perf_count = parse_bool("PERF_COUNT", pc);

    const std::string t = get("INFERENCE_NUM_THREADS");
    const int threads = t.empty() ? 0 : parse_count("INFERENCE_NUM_THREADS", t, 0);
    c.threads = threads == 0 ? std::max(hardware_threads, 1) : threads;

    const std::string s = upper(get("NUM_STREAMS"));
    int streams = 1;
    if (!s.empty() && s != "AUTO")
        streams = parse_count("NUM_STREAMS", s, 1);
    else if (c.hint == "THROUGHPUT" || s == "AUTO")
        streams = throughput_streams(c.threads);
    for (int i = 0; i < streams; ++i)
        c.stream_threads.push_back(std::max(1, c.threads / streams + (i < c.threads % streams)));
    return c;
}

AnyMap Config::to_properties() const {
    return {{"PERFORMANCE_HINT", hint},
            {"NUM_STREAMS", std::to_string(streams())},
            {"INFERENCE_NUM_THREADS", std::to_string(threads)},
            {"INFERENCE_PRECISION_HINT", precision},
            {"KV_CACHE_PRECISION", kv_cache_precision},
            {"OPTIMAL_NUMBER_OF_INFER_REQUESTS", std::to_string(streams())},
            {"CACHE_DIR", cache_dir},
            {"PERF_COUNT", perf_count ? "YES" : "NO"}};
}

}  // namespace kiln::cpu
