// kiln benchmark: measures inference latency and throughput of a model on random inputs, in the
// spirit of OpenVINO's benchmark_app (same single-dash flag names, so its users' commands work).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "core/dispatch.hpp"
#include "kiln/runtime.hpp"
#include "tensor_files.hpp"

namespace kiln::tools {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

const char* kUsage = R"(Usage: kiln benchmark -m MODEL [options]
Measures inference latency and throughput on deterministic random inputs.

  -m MODEL              model file (.onnx or .xml)                            (required)
  -d DEVICE             CPU or AUTO                                           [CPU]
  -hint HINT            latency | throughput | none (PERFORMANCE_HINT)        [throughput]
  -api API              sync | async                                          [async]
  -nireq N              requests in flight with -api async   [OPTIMAL_NUMBER_OF_INFER_REQUESTS]
  -nstreams N           NUM_STREAMS
  -nthreads N           INFERENCE_NUM_THREADS
  -infer_precision P    f32 | bf16 (INFERENCE_PRECISION_HINT)
  -niter N              number of iterations (all requests together)
  -t SECONDS            run time; 10 s when neither -niter nor -t is given
  -b N                  batch: the first dimension of every input
  -shape SHAPES         input shapes, e.g. "x[1,3,224,224],mask[1,128]" or "[1,3,224,224]"
  -pc                   per-operation performance counters (PERF_COUNT=YES)
  -cache_dir DIR        CACHE_DIR: compile from the file through the model cache in DIR
  --report FILE         write the results as JSON
  -h, --help            print this help
With both -niter and -t, the run stops at whichever limit comes first.
)";

struct BenchOptions {
    std::string model, device = "CPU", hint = "throughput", api = "async", precision, report;
    std::string cache_dir;
    std::string shapes;
    std::optional<int64_t> nstreams, nthreads, niter, batch, nireq;
    std::optional<double> seconds;
    bool perf_counts = false, help = false;
};

int64_t parse_int(const std::string& flag, const std::string& v, int64_t min) {
    size_t used = 0;
    int64_t x = 0;
    try {
        x = std::stoll(v, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    KILN_CHECK(used == v.size() && !v.empty(), flag, ": '", v, "' is not an integer");
    KILN_CHECK(x >= min, flag, " must be at least ", min, ", got ", x);
    return x;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// Flags take one or two dashes ("-niter 20", "--niter=20").
BenchOptions parse_args(const std::vector<std::string>& args) {
    BenchOptions o;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        std::string flag = arg, value;
        bool has_value = false;
        KILN_CHECK(flag.size() >= 2 && flag[0] == '-', "unexpected argument '", flag,
                   "' (options start with '-'; see kiln benchmark --help)");
        const std::string name = flag.substr(flag[1] == '-' ? 2 : 1);
        std::string key = name;
        if (const size_t eq = name.find('='); eq != std::string::npos) {
            key = name.substr(0, eq);
            value = name.substr(eq + 1);
            has_value = true;
        }
        flag = "-" + key;
        if (key == "h" || key == "help") {
            o.help = true;
            continue;
        }
        if (key == "pc") {
            o.perf_counts = true;
            continue;
        }
        static const std::set<std::string> kValued = {
            "m",     "d", "hint",  "api",    "nstreams", "nthreads", "infer_precision",
            "niter", "b", "shape", "report", "t",        "nireq",    "cache_dir"};
        KILN_CHECK(kValued.count(key), "unknown option '", arg, "' (see kiln benchmark --help)");
        if (!has_value) {
            KILN_CHECK(i + 1 < args.size(), flag, " needs a value");
            value = args[++i];
        }
        if (key == "m")
            o.model = value;
        else if (key == "d")
            o.device = value;
        else if (key == "hint")
            o.hint = lower(value);
        else if (key == "api")
            o.api = lower(value);
        else if (key == "nstreams")
            o.nstreams = parse_int(flag, value, 1);
        else if (key == "nireq")
            o.nireq = parse_int(flag, value, 1);
        else if (key == "nthreads")
            o.nthreads = parse_int(flag, value, 0);
        else if (key == "infer_precision")
            o.precision = lower(value);
        else if (key == "niter")
            o.niter = parse_int(flag, value, 1);
        else if (key == "b")
            o.batch = parse_int(flag, value, 1);
        else if (key == "shape")
            o.shapes = value;
        else if (key == "report")
            o.report = value;
        else if (key == "cache_dir")
            o.cache_dir = value;
        else if (key == "t") {
            char* end = nullptr;
            const double s = std::strtod(value.c_str(), &end);
            KILN_CHECK(!value.empty() && *end == '\0' && std::isfinite(s) && s > 0, flag, ": '",
                       value, "' is not a positive number of seconds");
            o.seconds = s;
        } else {
            KILN_THROW("unknown option '", arg, "'");
        }
    }
    if (o.help) return o;
    KILN_CHECK(!o.model.empty(), "-m MODEL is required (see kiln benchmark --help)");
    KILN_CHECK(o.hint == "latency" || o.hint == "throughput" || o.hint == "none", "-hint: '",
               o.hint, "' is not one of latency, throughput, none");
    KILN_CHECK(o.api == "sync" || o.api == "async", "-api: '", o.api,
               "' is not one of sync, async");
    KILN_CHECK(o.precision.empty() || o.precision == "f32" || o.precision == "bf16",
               "-infer_precision: '", o.precision, "' is not one of f32, bf16");
    if (!o.niter && !o.seconds) o.seconds = 10.0;
    return o;
}

/// "x[1,3,224,224],y[1,128]" -> {x: [1,3,224,224], y: [1,128]}; "[..]" alone names no input.
std::vector<std::pair<std::string, Shape>> parse_shapes(const std::string& text) {
    std::vector<std::pair<std::string, Shape>> out;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t open = text.find('[', pos);
        const size_t close = open == std::string::npos ? open : text.find(']', open);
        KILN_CHECK(close != std::string::npos, "-shape: cannot parse '", text,
                   "' (expected NAME[d0,d1,...] separated by commas)");
        Shape dims;
        std::stringstream body(text.substr(open + 1, close - open - 1));
        for (std::string d; std::getline(body, d, ',');) dims.push_back(parse_int("-shape", d, 0));
        out.emplace_back(text.substr(pos, open - pos), std::move(dims));
        pos = close + 1;
        if (pos < text.size()) {
            KILN_CHECK(text[pos] == ',', "-shape: expected ',' after ']' in '", text, "'");
            ++pos;
        }
    }
    return out;
}

/// The concrete shape of every input: -shape, then -b for the first dimension; what remains
/// dynamic is an error, since random data needs a size.
std::vector<Shape> resolve_shapes(const BenchOptions& o, const Model& model) {
    const OutputVector inputs = model.inputs();
    std::vector<PartialShape> shapes;
    for (const Output& in : inputs) shapes.push_back(in.partial_shape());
    std::vector<bool> given(inputs.size(), false);
    for (const auto& [name, shape] : parse_shapes(o.shapes)) {
        std::vector<size_t> targets;
        if (name.empty()) {
            for (size_t i = 0; i < inputs.size(); ++i) targets.push_back(i);
        } else {
            try {
                targets.push_back(model.parameter_index(name));
            } catch (const Error& e) {
                KILN_THROW("-shape: ", e.what());  // the message lists the input names
            }
        }
        for (size_t i : targets) {
            KILN_CHECK(inputs[i].partial_shape().compatible(PartialShape(shape)),
                       "-shape: ", to_string(shape), " does not fit input '", inputs[i].any_name(),
                       "' of shape ", to_string(inputs[i].partial_shape()),
                       " (its rank and static dimensions cannot be changed)");
            shapes[i] = PartialShape(shape);
            given[i] = true;
        }
    }
    std::vector<Shape> out;
    for (size_t i = 0; i < inputs.size(); ++i) {
        PartialShape& s = shapes[i];
        if (o.batch && !given[i] && s.rank_is_static() && s.size() > 0) {
            KILN_CHECK(s[0].compatible(Dimension(*o.batch)), "-b ", *o.batch, ": input '",
                       inputs[i].any_name(), "' has a static batch of ", s[0].get_length(),
                       " (static dimensions cannot be changed)");
            s[0] = Dimension(*o.batch);
        }
        const bool only_batch = s.rank_is_static() && s.size() > 0 && s[0].is_dynamic() &&
                                std::all_of(s.dims().begin() + 1, s.dims().end(),
                                            [](const Dimension& d) { return d.is_static(); });
        KILN_CHECK(s.is_static(), "input '", inputs[i].any_name(), "' has dynamic shape ",
                   to_string(s), ": give its shape with ", only_batch ? "-b N or " : "",
                   "-shape \"", inputs[i].any_name(), "[...]\"");
        out.push_back(s.to_shape());
        // Checked here: the tensor allocation computes the element count without a check.
        int64_t elements = 1;
        for (int64_t d : out.back())
            KILN_CHECK(
                !__builtin_mul_overflow(elements, d, &elements) && elements <= (int64_t{1} << 56),
                "input '", inputs[i].any_name(), "': shape ", to_string(out.back()),
                " has too many elements");
    }
    return out;
}

/// Deterministic random data: floats in [-1, 1), integers in [0, 10) (safe as indices of most
/// gather-like inputs), booleans 0/1.
Tensor random_tensor(ElementType type, const Shape& shape, uint64_t seed) {
    Tensor t(type, shape);
    std::mt19937_64 rng(seed);
    if (type == ElementType::string) {
        for (int64_t i = 0; i < t.size(); ++i) t.data<std::string>()[i] = "kiln";
    } else if (bit_width(type) < 8) {
        auto* bytes = static_cast<uint8_t*>(t.raw_data());
        for (size_t i = 0; i < t.byte_size(); ++i) bytes[i] = static_cast<uint8_t>(rng());
    } else {
        dispatch_numeric(type, [&](auto tag) {
            using T = KILN_TYPE_OF(tag);
            T* p = t.data<T>();
            std::uniform_real_distribution<float> real(-1.0f, 1.0f);
            for (int64_t i = 0; i < t.size(); ++i) {
                if constexpr (std::is_same_v<T, bool>) {
                    p[i] = (rng() & 1) != 0;
                } else if constexpr (std::is_integral_v<T>) {
                    p[i] = static_cast<T>(rng() % 10);
                } else {
                    p[i] = static_cast<T>(real(rng));
                }
            }
        });
    }
    return t;
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// A memory figure of this process in KiB from /proc/self/status ("VmHWM": peak resident set
/// size, "VmRSS": current), or -1 where /proc is unavailable.
int64_t memory_kib(const std::string& field = "VmHWM") {
    std::ifstream f("/proc/self/status");
    for (std::string line; std::getline(f, line);)
        if (line.rfind(field + ":", 0) == 0) return std::atoll(line.c_str() + field.size() + 1);
    return -1;
}

/// Minor page faults of this process so far (fresh pages touched), or -1.
int64_t minor_page_faults() {
    rusage u{};
    return getrusage(RUSAGE_SELF, &u) == 0 ? static_cast<int64_t>(u.ru_minflt) : -1;
}

/// One request's latencies. Count, sum, min and max are exact; the samples kept for percentiles
/// are thinned to every 2nd, 4th, ... iteration once there are many, so that a long run of a
/// tiny model neither grows memory without bound nor inflates the peak memory it reports.
class LatencySamples {
public:
    static constexpr size_t kMaxSamples = 1 << 18;

    void add(double ms) {
        if (count_++ % stride_ == 0) {
            kept_.push_back(static_cast<float>(ms));
            if (kept_.size() >= kMaxSamples) {
                for (size_t i = 0; 2 * i < kept_.size(); ++i) kept_[i] = kept_[2 * i];
                kept_.resize((kept_.size() + 1) / 2);
                stride_ *= 2;
            }
        }
        sum_ += ms;
        min_ = count_ == 1 ? ms : std::min(min_, ms);
        max_ = count_ == 1 ? ms : std::max(max_, ms);
    }
    void merge(const LatencySamples& o) {
        if (o.count_ == 0) return;
        min_ = count_ == 0 ? o.min_ : std::min(min_, o.min_);
        max_ = count_ == 0 ? o.max_ : std::max(max_, o.max_);
        count_ += o.count_;
        sum_ += o.sum_;
        kept_.insert(kept_.end(), o.kept_.begin(), o.kept_.end());
    }
    int64_t count() const { return count_; }

    struct Stats {
        double median = 0, average = 0, p90 = 0, p99 = 0, min = 0, max = 0;
    };
    /// Nearest-rank percentiles (the median of an even count averages the middle two).
    Stats stats() const {
        Stats s;
        if (kept_.empty()) return s;
        std::vector<float> v = kept_;
        std::sort(v.begin(), v.end());
        const size_t n = v.size();
        const auto rank = [&](double p) {
            const auto r = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
            return static_cast<double>(v[std::clamp<size_t>(r, 1, n) - 1]);
        };
        s.median = n % 2 ? v[n / 2] : (static_cast<double>(v[n / 2 - 1]) + v[n / 2]) / 2;
        s.average = sum_ / static_cast<double>(count_);
        s.p90 = rank(90);
        s.p99 = rank(99);
        s.min = min_;
        s.max = max_;
        return s;
    }

private:
    std::vector<float> kept_;
    int64_t count_ = 0, stride_ = 1;
    double sum_ = 0, min_ = 0, max_ = 0;
};

/// A bar on stderr, redrawn in place; only drawn when stderr is a terminal.
class Progress {
public:
    Progress(std::optional<int64_t> niter, std::optional<double> seconds)
        : enabled_(::isatty(STDERR_FILENO) == 1), niter_(niter), seconds_(seconds) {}
    void update(int64_t count, double elapsed_s) {
        if (!enabled_) return;
        double f = 0;
        if (niter_) f = static_cast<double>(count) / static_cast<double>(*niter_);
        if (seconds_) f = std::max(f, elapsed_s / *seconds_);
        f = std::clamp(f, 0.0, 1.0);
        constexpr int kWidth = 40;
        const int filled = static_cast<int>(f * kWidth);
        std::fprintf(stderr, "\r[%s%s] %3d%%  %lld iterations, %.1f s", bar(filled, '#').c_str(),
                     bar(kWidth - filled, ' ').c_str(), static_cast<int>(f * 100),
                     static_cast<long long>(count), elapsed_s);
        std::fflush(stderr);
        drawn_ = true;
    }
    void finish() {
        if (drawn_) std::fprintf(stderr, "\n");
    }

private:
    static std::string bar(int n, char c) { return std::string(static_cast<size_t>(n), c); }
    bool enabled_, drawn_ = false;
    std::optional<int64_t> niter_;
    std::optional<double> seconds_;
};

/// Per-operation times summed over every measured iteration (-pc).
class Counters {
public:
    void add(const std::vector<ProfilingInfo>& info) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (rows_.empty())
            for (const auto& p : info) rows_.push_back({p.node_name, p.node_type, p.exec_type, 0});
        for (size_t i = 0; i < info.size() && i < rows_.size(); ++i)
            rows_[i].ns += static_cast<double>(info[i].real_time.count());
        ++iterations_;
    }

    struct Row {
        std::string name, type, exec;
        double ns = 0;
    };
    /// Average per iteration, slowest first.
    std::vector<Row> by_node() const { return sorted(rows_); }
    std::vector<Row> by_type() const {
        std::map<std::string, Row> types;
        for (const Row& r : rows_) {
            Row& t = types[r.type];
            t.type = r.type;
            t.ns += r.ns;
            if (t.exec.empty() || t.exec == r.exec)
                t.exec = r.exec;
            else
                t.exec = "mixed";
        }
        std::vector<Row> v;
        for (auto& [type, row] : types) v.push_back(row);
        return sorted(v);
    }
    double total_ms() const { return total_ns() / 1e6; }
    double total_ns() const {
        double t = 0;
        for (const Row& r : rows_) t += r.ns;
        return t / std::max<int64_t>(iterations_, 1);
    }
    int64_t iterations() const { return iterations_; }

private:
    std::vector<Row> sorted(std::vector<Row> v) const {
        for (Row& r : v) r.ns /= static_cast<double>(std::max<int64_t>(iterations_, 1));
        std::stable_sort(v.begin(), v.end(), [](const Row& a, const Row& b) { return a.ns > b.ns; });
        return v;
    }
    std::mutex mutex_;
    std::vector<Row> rows_;
    int64_t iterations_ = 0;
};

struct RunResult {
    LatencySamples latencies;
    double duration_ms = 0;
};

Clock::time_point deadline_of(const BenchOptions& o, Clock::time_point start) {
    return o.seconds ? start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(*o.seconds))
                     : Clock::time_point::max();
}

/// -api sync: one request, one inference after the other, on this thread.
RunResult run_sync(InferRequest& request, const BenchOptions& o, Counters* counters) {
    RunResult result;
    Progress progress(o.niter, o.seconds);
    const auto start = Clock::now();
    const auto deadline = deadline_of(o, start);
    auto last_draw = start;
    while ((!o.niter || result.latencies.count() < *o.niter) && Clock::now() < deadline) {
        const auto t0 = Clock::now();
        request.infer();
        result.latencies.add(ms_since(t0));
        if (counters) counters->add(request.get_profiling_info());
        if (Clock::now() - last_draw > std::chrono::milliseconds(200)) {
            last_draw = Clock::now();
            progress.update(result.latencies.count(), ms_since(start) / 1000);
        }
    }
    result.duration_ms = ms_since(start);
    progress.update(result.latencies.count(), result.duration_ms / 1000);
    progress.finish();
    return result;
}

/// -api async: the runtime's AsyncInferQueue keeps every request busy on the streams (as
/// OpenVINO's benchmark_app does); this thread only starts requests as they come back.
RunResult run_async(AsyncInferQueue& queue, const BenchOptions& o, Counters* counters) {
    struct Job {
        size_t request;
        Clock::time_point start;
    };
    std::vector<LatencySamples> latencies(queue.size());
    std::atomic<int64_t> finished{0};
    std::atomic<bool> failed{false};
    queue.set_callback([&](InferRequest& r, const std::any& userdata, std::exception_ptr error) {
        if (error) {
            failed = true;
            std::rethrow_exception(error);  // wait_all() reports it
        }
        const Job& job = std::any_cast<const Job&>(userdata);
        latencies[job.request].add(ms_since(job.start));  // one request's callbacks never overlap
        if (counters) counters->add(r.get_profiling_info());
        ++finished;
    });
    Progress progress(o.niter, o.seconds);
    const auto start = Clock::now();
    const auto deadline = deadline_of(o, start);
    auto last_draw = start;
    for (int64_t started = 0; !failed && (!o.niter || started < *o.niter); ++started) {
        const size_t id = queue.get_idle_request_id();
        if (Clock::now() >= deadline) break;
        queue.start_async(std::vector<Tensor>{}, Job{id, Clock::now()});
        if (Clock::now() - last_draw > std::chrono::milliseconds(200)) {
            last_draw = Clock::now();
            progress.update(finished.load(), ms_since(start) / 1000);
        }
    }
    queue.wait_all();
    RunResult result;
    result.duration_ms = ms_since(start);
    progress.update(finished.load(), result.duration_ms / 1000);
    progress.finish();
    for (const auto& l : latencies) result.latencies.merge(l);
    return result;
}

std::string fixed(double v, int digits = 2) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

std::string fixed3(double v) { return fixed(v, 3); }

/// The slowest operations, then every operation type; times are averages per iteration.
void print_counters(std::ostream& out, const Counters& c) {
    constexpr size_t kTop = 20;
    const double total = c.total_ns();
    const auto line = [&](const std::string& name, const Counters::Row& r) {
        char buf[512];
        std::snprintf(buf, sizeof buf, "  %-40.40s %-24.24s %-10s %10.3f %6.1f%%\n",
                      name.c_str(), r.type.c_str(), r.exec.c_str(), r.ns / 1e6,
                      total > 0 ? 100 * r.ns / total : 0.0);
        out << buf;
    };
    const auto header = [&](const char* first) {
        char buf[256];
        std::snprintf(buf, sizeof buf, "  %-40s %-24s %-10s %10s %7s\n", first, "type", "kernel",
                      "time (ms)", "share");
        out << buf;
    };
    const auto by_node = c.by_node();
    out << "Performance counters (average of " << c.iterations() << " iterations, "
        << std::min(kTop, by_node.size()) << " slowest of " << by_node.size()
        << " operations):\n";
    header("operation");
    for (size_t i = 0; i < by_node.size() && i < kTop; ++i) line(by_node[i].name, by_node[i]);
    out << "Performance counters by operation type:\n";
    header("");
    for (const auto& r : c.by_type()) line("", r);
    out << "  Total: " << fixed3(total / 1e6) << " ms\n";
}

void benchmark(const BenchOptions& o) {
    if (o.help) {
        std::cout << kUsage;
        return;
    }
    if (!o.report.empty()) {
        // Fail before a long run, not after it.
        std::ofstream probe(o.report, std::ios::app);
        KILN_CHECK(probe, "--report: cannot create '", o.report, "'");
    }
    Core core;
    auto t0 = Clock::now();
    AnyMap props;
    if (o.hint != "none")
        props["PERFORMANCE_HINT"] = o.hint == "latency" ? "LATENCY" : "THROUGHPUT";
    if (o.nstreams) props["NUM_STREAMS"] = std::to_string(*o.nstreams);
    if (o.nthreads) props["INFERENCE_NUM_THREADS"] = std::to_string(*o.nthreads);
    if (!o.precision.empty()) props["INFERENCE_PRECISION_HINT"] = o.precision;
    if (o.perf_counts) props["PERF_COUNT"] = "YES";
    if (!o.cache_dir.empty()) props["CACHE_DIR"] = o.cache_dir;

    double read_ms = 0, compile_ms = 0;
    std::vector<Shape> shapes;
    const CompiledModel compiled = [&] {
        if (!o.cache_dir.empty()) {
            // As benchmark_app with -cache_dir: compile from the file, which the cache can skip
            // reading; "Compile model" then includes reading it on a miss.
            const CompiledModel c = core.compile_model(o.model, o.device, props);
            compile_ms = ms_since(t0);
            shapes = resolve_shapes(o, *c.get_runtime_model());
            return c;
        }
        std::shared_ptr<Model> model = core.read_model(o.model);
        read_ms = ms_since(t0);
        shapes = resolve_shapes(o, *model);
        // As benchmark_app: the model is reshaped to the shapes it runs with, so the compiler
        // sees static shapes (shape arithmetic folds away, kernels pick static-shape paths).
        std::map<std::string, PartialShape> fixed;
        const OutputVector ins = model->inputs();
        for (size_t i = 0; i < ins.size(); ++i)
            if (!ins[i].partial_shape().is_static() && !ins[i].names().empty())
                fixed[*ins[i].names().begin()] = PartialShape(shapes[i]);
        if (!fixed.empty()) model->reshape(fixed);
        t0 = Clock::now();
        // Given away, as an application that only runs the model does: the device frees each
        // weight once packed, instead of holding the originals until compiling ends.
        const CompiledModel c = core.compile_model(std::move(model), o.device, props);
        compile_ms = ms_since(t0);
        return c;
    }();

    // As benchmark_app: -nireq, else as many requests as the device says keep it busy.
    size_t nreq = 1;
    if (o.api == "async")
        nreq = o.nireq ? static_cast<size_t>(*o.nireq)
                       : std::stoul(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"));
    const OutputVector inputs = compiled.inputs();
    std::optional<AsyncInferQueue> queue;
    std::optional<InferRequest> sync_request;
    if (o.api == "async")
        queue.emplace(compiled, nreq);
    else
        sync_request = compiled.create_infer_request();
    InferRequest& first = queue ? (*queue)[0] : *sync_request;
    for (size_t r = 0; r < nreq; ++r) {
        InferRequest& request = queue ? (*queue)[r] : first;
        for (size_t i = 0; i < inputs.size(); ++i)
            request.set_input_tensor(i, random_tensor(inputs[i].element_type(), shapes[i], 1234 + i));
    }
    t0 = Clock::now();
    first.infer();
    const double first_ms = ms_since(t0);

    Counters counters;
    Counters* pc = o.perf_counts ? &counters : nullptr;
    const int64_t faults_before = minor_page_faults();
    const RunResult run = queue ? run_async(*queue, o, pc) : run_sync(first, o, pc);
    const int64_t faults = minor_page_faults() - faults_before;
    const LatencySamples::Stats lat = run.latencies.stats();
    const int64_t count = run.latencies.count();
    const int64_t batch = o.batch.value_or(1);
    const double fps =
        run.duration_ms > 0 ? static_cast<double>(batch * count) / (run.duration_ms / 1000) : 0;
    const int64_t peak_kib = memory_kib("VmHWM");
    const int64_t rss_kib = memory_kib("VmRSS");

    Json compiled_props = Json::object();
    for (const char* key : {"PERFORMANCE_HINT", "NUM_STREAMS", "INFERENCE_NUM_THREADS",
                            "INFERENCE_PRECISION_HINT", "OPTIMAL_NUMBER_OF_INFER_REQUESTS",
                            "EXECUTION_DEVICES"}) {
        try {
            compiled_props[key] = compiled.get_property(key);
        } catch (const Error&) {
        }  // not set and without a default
    }

    std::ostringstream out;
    out << "Model: " << o.model << "\n"
        << "Device: " << o.device << "  hint: " << o.hint << "  api: " << o.api
        << "  requests: " << nreq << "\n";
    out << "Compiled model properties:";
    for (const auto& [k, v] : compiled_props.items())
        out << " " << k << "=" << v.get<std::string>();
    out << "\nInputs:\n";
    for (size_t i = 0; i < inputs.size(); ++i)
        out << "  " << inputs[i].any_name() << ": " << to_string(inputs[i].element_type()) << " "
            << to_string(shapes[i]) << "\n";
    out << "Read model: " << fixed(read_ms) << " ms\n"
        << "Compile model: " << fixed(compile_ms) << " ms"
        << (o.cache_dir.empty() ? ""
            : compiled.get_property("LOADED_FROM_CACHE") == "YES" ? " (loaded from the cache)"
                                                                  : " (stored in the cache)")
        << "\n"
        << "First inference: " << fixed(first_ms) << " ms\n"
        << "Count: " << count << " iterations\n"
        << "Duration: " << fixed(run.duration_ms) << " ms\n"
        << "Latency:\n"
        << "  Median: " << fixed3(lat.median) << " ms\n"
        << "  Average: " << fixed3(lat.average) << " ms\n"
        << "  P90: " << fixed3(lat.p90) << " ms\n"
        << "  P99: " << fixed3(lat.p99) << " ms\n"
        << "  Min: " << fixed3(lat.min) << " ms\n"
        << "  Max: " << fixed3(lat.max) << " ms\n"
        << "Throughput: " << fixed(fps) << " FPS\n"
        << "Peak memory: " << mib_text(peak_kib) << "\n"
        << "Resident memory: " << mib_text(rss_kib) << " (after the run)\n"
        << "Page faults: " << fixed(count ? static_cast<double>(faults) / count : 0, 1)
        << " per iteration\n";
    if (o.perf_counts) print_counters(out, counters);
    std::cout << out.str() << std::flush;

    if (o.report.empty()) return;
    Json j;
    j["model"] = o.model;
    j["device"] = o.device;
    j["hint"] = o.hint;
    j["api"] = o.api;
    j["requests"] = nreq;
    j["batch"] = batch;
    j["properties"] = props;
    j["compiled_properties"] = compiled_props;
    j["inputs"] = Json::array();
    for (size_t i = 0; i < inputs.size(); ++i)
        j["inputs"].push_back({{"name", inputs[i].any_name()},
                               {"type", std::string(to_string(inputs[i].element_type()))},
                               {"shape", shapes[i]}});
    j["read_time_ms"] = read_ms;
    j["compile_time_ms"] = compile_ms;
    if (!o.cache_dir.empty()) j["loaded_from_cache"] = compiled.get_property("LOADED_FROM_CACHE") == "YES";
    j["first_inference_ms"] = first_ms;
    j["count"] = count;
    j["duration_ms"] = run.duration_ms;
    j["latency_ms"] = {{"median", lat.median}, {"average", lat.average}, {"p90", lat.p90},
                       {"p99", lat.p99},       {"min", lat.min},         {"max", lat.max}};
    j["throughput_fps"] = fps;
    j["peak_memory_kib"] = peak_kib;
    j["resident_memory_kib"] = rss_kib;
    j["page_faults_per_iteration"] = count ? static_cast<double>(faults) / count : 0;
    if (o.perf_counts) {
        const auto rows = [](const std::vector<Counters::Row>& v) {
            Json a = Json::array();
            for (const auto& r : v)
                a.push_back({{"node_name", r.name}, {"node_type", r.type}, {"exec_type", r.exec},
                             {"time_ms", r.ns / 1e6}});
            return a;
        };
        j["performance_counters"] = rows(counters.by_node());
        j["performance_counters_by_type"] = rows(counters.by_type());
        j["performance_counters_total_ms"] = counters.total_ms();
    }
    std::ofstream f(o.report, std::ios::trunc);
    KILN_CHECK(f, "--report: cannot create '", o.report, "'");
    f << j.dump(2) << "\n";
    KILN_CHECK(f.good(), "--report: error writing '", o.report, "'");
}

}  // namespace

Command add_benchmark_command(CLI::App& parent) {
    CLI::App* app = parent.add_subcommand(
        "benchmark", "Measure latency and throughput on random inputs (see benchmark --help).");
    // Options are parsed here, not by CLI11, to accept benchmark_app's single-dash long flags.
    app->set_help_flag();
    app->prefix_command();
    app->allow_extras();
    return {app, [app] { benchmark(parse_args(app->remaining())); }};
}

}  // namespace kiln::tools
