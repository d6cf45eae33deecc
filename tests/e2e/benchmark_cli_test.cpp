// kiln benchmark: runs on real models in both APIs, the printed figures, the JSON report, and
// one-line errors for bad flags.
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "cli_support.hpp"
#include "kiln/ir.hpp"
#include "kiln/node.hpp"

namespace kiln::e2e {
namespace {

const std::string kRelu = std::string(kTestData) + "/node/test_relu/model.onnx";
const std::string kConv = std::string(kTestData) + "/pytorch-converted/test_Conv2d/model.onnx";

using BenchmarkCli = CliTest;

/// The value printed after "LABEL: " (e.g. "Count: 20 iterations" -> "20 iterations").
std::string field(const std::string& out, const std::string& label) {
    std::smatch m;
    if (!std::regex_search(out, m, std::regex("(^|\\n) *" + label + ": ([^\\n]*)"))) return "";
    return m[2].str();
}

double number(const std::string& out, const std::string& label) {
    const std::string v = field(out, label);
    return v.empty() ? -1 : std::stod(v);
}

void expect_figures(const CliResult& r, int64_t count) {
    ASSERT_EQ(r.code, 0) << r.err << r.out;
    EXPECT_EQ(field(r.out, "Count"), std::to_string(count) + " iterations") << r.out;
    for (const char* label : {"Read model", "Compile model", "First inference", "Duration",
                              "Median", "Average", "P90", "P99", "Min", "Max"}) {
        EXPECT_GE(number(r.out, label), 0) << label << " in:\n" << r.out;
        EXPECT_NE(field(r.out, label).find(" ms"), std::string::npos) << label;
    }
    EXPECT_LE(number(r.out, "Min"), number(r.out, "Median"));
    EXPECT_LE(number(r.out, "Median"), number(r.out, "P90"));
    EXPECT_LE(number(r.out, "P90"), number(r.out, "P99"));
    EXPECT_LE(number(r.out, "P99"), number(r.out, "Max"));
    EXPECT_GT(number(r.out, "Throughput"), 0) << r.out;
    EXPECT_NE(field(r.out, "Throughput").find("FPS"), std::string::npos);
    EXPECT_GT(number(r.out, "Peak memory"), 0) << r.out;
    EXPECT_TRUE(r.err.empty()) << "no progress bar without a terminal: " << r.err;
}

TEST_F(BenchmarkCli, SyncOnRelu) {
    const CliResult r = kiln("benchmark -m " + quote(kRelu) + " -niter 20 -api sync");
    expect_figures(r, 20);
    EXPECT_NE(r.out.find("api: sync  requests: 1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("x: f32 [3,4,5]"), std::string::npos) << r.out;
}

TEST_F(BenchmarkCli, AsyncOnConvWithReport) {
    const fs::path report = dir_ / "report.json";
    const CliResult r = kiln("benchmark -m " + quote(kConv) +
                             " -niter 20 -api async -nstreams 3 -hint throughput -nthreads 1 "
                             "-infer_precision f32 -pc --report " +
                             quote(report.string()));
    expect_figures(r, 20);
    EXPECT_NE(r.out.find("requests: 3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Performance counters (average of 20 iterations"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("Performance counters by operation type:"), std::string::npos);
    EXPECT_TRUE(std::regex_search(r.out, std::regex("Convolution +optimized"))) << r.out;

    const auto j = nlohmann::json::parse(read_text(report));
    EXPECT_EQ(j["count"], 20);
    EXPECT_EQ(j["api"], "async");
    EXPECT_EQ(j["requests"], 3);
    EXPECT_EQ(j["properties"]["PERFORMANCE_HINT"], "THROUGHPUT");
    EXPECT_EQ(j["properties"]["NUM_STREAMS"], "3");
    EXPECT_EQ(j["properties"]["INFERENCE_NUM_THREADS"], "1");
    EXPECT_EQ(j["compiled_properties"]["NUM_STREAMS"], "3");
    EXPECT_EQ(j["inputs"][0]["shape"], nlohmann::json::array({2, 3, 7, 5}));
    for (const char* key : {"read_time_ms", "compile_time_ms", "first_inference_ms", "duration_ms",
                            "throughput_fps", "peak_memory_kib"})
        EXPECT_GE(j[key].get<double>(), 0) << key;
    const auto& lat = j["latency_ms"];
    for (const char* key : {"median", "average", "p90", "p99", "min", "max"})
        EXPECT_GE(lat[key].get<double>(), 0) << key;
    EXPECT_LE(lat["min"].get<double>(), lat["max"].get<double>());
    EXPECT_EQ(j["compiled_properties"]["OPTIMAL_NUMBER_OF_INFER_REQUESTS"], "3");
    ASSERT_TRUE(j["performance_counters"].is_array());
    std::set<std::string> types;
    for (const auto& row : j["performance_counters"]) {
        types.insert(row["node_type"].get<std::string>());
        EXPECT_GE(row["time_ms"].get<double>(), 0);
    }
    // The CPU device fuses the convolution with what follows it.
    EXPECT_TRUE(types.count("Convolution") || types.count("FusedConvolution"))
        << j["performance_counters"].dump();
    EXPECT_GT(j["performance_counters_by_type"].size(), 0u);
    EXPECT_GE(j["performance_counters_total_ms"].get<double>(), 0);
    // FPS = batch * count / duration.
    EXPECT_NEAR(j["throughput_fps"].get<double>(), 20.0 / (j["duration_ms"].get<double>() / 1000),
                1e-6 * j["throughput_fps"].get<double>());
}

TEST_F(BenchmarkCli, AsyncTakesTheOptimalRequestCountOrNireq) {
    // THROUGHPUT with 2 threads: 2 single-threaded streams, so 2 requests.
    CliResult r = kiln("benchmark -m " + quote(kConv) + " -niter 9 -hint throughput -nthreads 2");
    expect_figures(r, 9);
    EXPECT_NE(r.out.find("requests: 2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("NUM_STREAMS=2"), std::string::npos) << r.out;
    r = kiln("benchmark -m " + quote(kConv) + " -niter 7 -nireq 5 -hint latency");
    expect_figures(r, 7);
    EXPECT_NE(r.out.find("requests: 5"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("NUM_STREAMS=1"), std::string::npos) << r.out;
    r = kiln("benchmark -m " + quote(kConv) + " -niter 3 -d AUTO -api sync -pc");
    expect_figures(r, 3);
    EXPECT_NE(r.out.find("EXECUTION_DEVICES=CPU"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Performance counters (average of 3 iterations"), std::string::npos);
}

TEST_F(BenchmarkCli, CacheDirLoadsTheSecondCompile) {
    const std::string cmd = "benchmark -m " + quote(kConv) + " -niter 3 -api sync -cache_dir " +
                            quote((dir_ / "cache").string());
    CliResult r = kiln(cmd);
    expect_figures(r, 3);
    EXPECT_NE(r.out.find("(stored in the cache)"), std::string::npos) << r.out;
    r = kiln(cmd);
    expect_figures(r, 3);
    EXPECT_NE(r.out.find("(loaded from the cache)"), std::string::npos) << r.out;
}

TEST_F(BenchmarkCli, TimeLimitAndDoubleDashFlags) {
    const CliResult r = kiln("benchmark --m=" + quote(kRelu) + " -t 0.2 -hint latency -api sync");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_GT(number(r.out, "Count"), 0);
    EXPECT_GE(number(r.out, "Duration"), 200);
    EXPECT_NE(r.out.find("PERFORMANCE_HINT=LATENCY"), std::string::npos) << r.out;
}

TEST_F(BenchmarkCli, HelpListsTheFlags) {
    const CliResult r = kiln("benchmark --help");
    EXPECT_EQ(r.code, 0);
    for (const char* flag : {"-niter", "-nstreams", "-shape", "-infer_precision", "--report"})
        EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
    EXPECT_NE(kiln("--help").out.find("benchmark"), std::string::npos);
}

/// x: f32 [?,3], y: i64 [?,?] -> Relu(x), y: dynamic dims that -b and -shape must fix.
std::string write_dynamic_model(const fs::path& dir) {
    auto x = make_parameter(ElementType::f32, PartialShape({Dimension(), 3}), "x");
    auto y = make_parameter(ElementType::i64, PartialShape({Dimension(), Dimension()}), "y");
    x->output_info(0).names = {"x"};
    y->output_info(0).names = {"y"};
    Model m(OutputVector{make_op("Relu", {x->output(0)}), y->output(0)}, {x, y});
    const std::string path = (dir / "dyn.xml").string();
    save_model(m, path);
    return path;
}

TEST_F(BenchmarkCli, ShapeAndBatchFixDynamicDims) {
    const std::string model = quote(write_dynamic_model(dir_));
    const fs::path report = dir_ / "r.json";
    CliResult r = kiln("benchmark -m " + model + " -niter 5 -b 4 -shape 'y[2,7]' --report " +
                       quote(report.string()));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("x: f32 [4,3]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("y: i64 [2,7]"), std::string::npos) << r.out;
    const auto j = nlohmann::json::parse(read_text(report));
    EXPECT_EQ(j["batch"], 4);
    EXPECT_NEAR(j["throughput_fps"].get<double>(), 4 * 5 / (j["duration_ms"].get<double>() / 1000),
                1e-6 * j["throughput_fps"].get<double>());

    // Dimensions left dynamic need -shape.
    expect_clean_error(kiln("benchmark -m " + model + " -niter 5 -b 4"), "-shape");
    // A shape that contradicts a static dimension.
    expect_clean_error(kiln("benchmark -m " + model + " -niter 5 -shape 'x[4,5],y[1,1]'"),
                       "does not fit");
    expect_clean_error(kiln("benchmark -m " + model + " -niter 5 -shape 'x[2,3]'"), "'y'");
    expect_clean_error(
        kiln("benchmark -m " + model + " -niter 5 -shape 'x[4611686018427387904,3],y[1,1]'"),
        "too many elements");
}

TEST_F(BenchmarkCli, BadFlagsGiveOneLineErrors) {
    const std::string m = " -m " + quote(kRelu) + " -niter 2 ";
    expect_clean_error(kiln("benchmark" + m + "-shape 'nosuch[1,2]'"), "nosuch");
    expect_clean_error(kiln("benchmark" + m + "-api bogus"), "-api");
    expect_clean_error(kiln("benchmark" + m + "-nireq 0"), "-nireq");
    expect_clean_error(kiln("benchmark" + m + "-hint fast"), "-hint");
    expect_clean_error(kiln("benchmark" + m + "-infer_precision f8"), "-infer_precision");
    expect_clean_error(kiln("benchmark" + m + "-shape 'x[3,4'"), "-shape");
    expect_clean_error(kiln("benchmark" + m + "-shape 'x[3,a,5]'"), "-shape");
    expect_clean_error(kiln("benchmark -m " + quote(kRelu) + " -niter 0"), "-niter");
    expect_clean_error(kiln("benchmark -m " + quote(kRelu) + " -t -1"), "-t");
    expect_clean_error(kiln("benchmark -m " + quote(kRelu) + " -niter"), "needs a value");
    expect_clean_error(kiln("benchmark" + m + "-frobnicate 3"), "unknown option");
    expect_clean_error(kiln("benchmark" + m + "-d NPU"), "NPU");
    expect_clean_error(kiln("benchmark -niter 2"), "-m");
    expect_clean_error(kiln("benchmark -m " + quote((dir_ / "missing.onnx").string())),
                       "does not exist");
    expect_clean_error(
        kiln("benchmark" + m + "--report " + quote((dir_ / "no/dir/r.json").string())), "--report");
}

}  // namespace
}  // namespace kiln::e2e
