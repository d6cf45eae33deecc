// Runs the ONNX backend test suite (Debian's libonnx-testdata) through Kiln: each test's model is
// read, compiled on CPU and run on every test_data_set; outputs are compared with the suite's
// tolerances. Passing models are also saved as IR, read back and must give identical outputs.
// Every test runs in a child process with a time limit, so a crash or hang is reported as such.
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "kiln/ir.hpp"
#include "kiln/onnx.hpp"
#include "kiln/runtime.hpp"
#include "onnx/onnx_pb.h"

namespace fs = std::filesystem;
using namespace kiln;

namespace {

const char* kSuites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};

// Only tests whose expected outputs are random draws may be skipped.
bool is_random_test(const std::string& name) {
    if (name.find("bernoulli") != std::string::npos) return true;
    if (name.rfind("test_training_dropout", 0) == 0 &&
        name.find("zero_ratio") == std::string::npos)
        return true;
    return false;
}

struct Options {
    double rtol = 1e-3;
    double atol = 1e-7;
    bool ir_roundtrip = true;
};

std::string compare(const Tensor& expected, const Tensor& actual, const Options& opt) {
    if (expected.element_type() != actual.element_type())
        return str_cat("element type ", to_string(actual.element_type()), ", expected ",
                       to_string(expected.element_type()));
    if (expected.shape() != actual.shape())
        return str_cat("shape ", to_string(actual.shape()), ", expected ",
                       to_string(expected.shape()));
    const ElementType t = expected.element_type();
    if (t == ElementType::string) {
        for (int64_t i = 0; i < expected.size(); ++i)
            if (expected.data<std::string>()[i] != actual.data<std::string>()[i])
                return str_cat("string ", i, " is '", actual.data<std::string>()[i], "', expected '",
                               expected.data<std::string>()[i], "'");
        return "";
    }
    for (int64_t i = 0; i < expected.size(); ++i) {
        if (is_float(t)) {
            const double e = expected.value_as_double(i), a = actual.value_as_double(i);
            if (std::isnan(e) && std::isnan(a)) continue;
            if (std::isinf(e) && e == a) continue;
            if (!(std::fabs(a - e) <= opt.atol + opt.rtol * std::fabs(e)))
                return str_cat("value ", i, " is ", a, ", expected ", e);
        } else if (expected.value_as_int(i) != actual.value_as_int(i)) {
            return str_cat("value ", i, " is ", actual.value_as_int(i), ", expected ",
                           expected.value_as_int(i));
        }
    }
    return "";
}

// numpy has no bfloat16, so ONNX test data stores bf16 tensors as their uint16 bit patterns.
Tensor as_bf16_if_expected(const Tensor& t, ElementType wanted) {
    if (wanted != ElementType::bf16 || t.element_type() != ElementType::u16) return t;
    Tensor out(ElementType::bf16, t.shape());
    if (t.byte_size()) std::memcpy(out.raw_data(), t.raw_data(), t.byte_size());
    return out;
}

std::vector<Tensor> run_model(const Core& core, const std::shared_ptr<Model>& model,
                              const std::vector<Tensor>& inputs) {
    auto compiled = core.compile_model(model, "CPU");
    auto req = compiled.create_infer_request();
    KILN_CHECK(inputs.size() == compiled.inputs().size(), "test gives ", inputs.size(),
               " inputs, the model has ", compiled.inputs().size());
    for (size_t i = 0; i < inputs.size(); ++i)
        req.set_input_tensor(i, as_bf16_if_expected(inputs[i], compiled.inputs()[i].element_type()));
    req.infer();
    std::vector<Tensor> outs;
    for (size_t i = 0; i < compiled.outputs().size(); ++i) outs.push_back(req.get_output_tensor(i));
    return outs;
}

std::vector<Tensor> read_set(const fs::path& dir, const char* prefix) {
    std::vector<Tensor> v;
    for (int i = 0;; ++i) {
        fs::path p = dir / str_cat(prefix, "_", i, ".pb");
        if (!fs::exists(p)) break;
        v.push_back(read_onnx_tensor(p.string()));
    }
    return v;
}

// Checks the graph's declared input/output kinds: sequences and optionals are not tensors.
void check_tensor_io(const fs::path& model_path) {
    onnx::ModelProto proto;
    std::ifstream f(model_path, std::ios::binary);
    if (!proto.ParseFromIstream(&f)) return;  // read_onnx reports it
    for (const auto& vi : proto.graph().output())
        KILN_CHECK(vi.type().has_tensor_type(), "output '", vi.name(),
                   "' is a sequence/optional/map, which Kiln does not support");
    for (const auto& vi : proto.graph().input())
        KILN_CHECK(vi.type().has_tensor_type(), "input '", vi.name(),
                   "' is a sequence/optional/map, which Kiln does not support");
}

// Returns "" on success or the reason of failure.
std::string run_test(const fs::path& dir, const Options& opt) {
    Core core;
    const fs::path model_path = dir / "model.onnx";
    check_tensor_io(model_path);
    auto model = core.read_model(model_path.string());
    std::vector<fs::path> sets;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
            sets.push_back(e.path());
    std::sort(sets.begin(), sets.end());
    KILN_CHECK(!sets.empty(), "no test_data_set directories");

    std::shared_ptr<Model> ir_model;
    std::string ir_dir;
    if (opt.ir_roundtrip) {
        ir_dir = (fs::temp_directory_path() / str_cat("kiln-conf-", getpid())).string();
        fs::create_directories(ir_dir);
    }
    for (const auto& set : sets) {
        auto inputs = read_set(set, "input");
        auto expected = read_set(set, "output");
        auto actual = run_model(core, model, inputs);
        KILN_CHECK(actual.size() == expected.size(), "produced ", actual.size(),
                   " outputs, expected ", expected.size());
        for (size_t i = 0; i < actual.size(); ++i) {
            expected[i] = as_bf16_if_expected(expected[i], actual[i].element_type());
            std::string diff = compare(expected[i], actual[i], opt);
            if (!diff.empty())
                return str_cat("output ", i, " of ", set.filename().string(), ": ", diff);
        }
        if (opt.ir_roundtrip) {
            if (!ir_model) {
                const std::string xml = ir_dir + "/model.xml";
                save_model(*model, xml);
                ir_model = read_ir(xml);
            }
            auto again = run_model(core, ir_model, inputs);
            KILN_CHECK(again.size() == actual.size(), "IR round trip: ", again.size(),
                       " outputs instead of ", actual.size());
            for (size_t i = 0; i < actual.size(); ++i)
                KILN_CHECK(again[i].identical(actual[i]), "IR round trip: output ", i,
                           " differs from the ONNX-loaded model");
        }
    }
    if (!ir_dir.empty()) fs::remove_all(ir_dir);
    return "";
}

struct Outcome {
    bool pass = false;
    std::string reason;
};

// Runs one test in a child process with a time limit.
Outcome run_isolated(const fs::path& dir, const Options& opt, int timeout_s, bool fork_tests) {
    if (!fork_tests) {
        try {
            std::string r = run_test(dir, opt);
            return {r.empty(), r};
        } catch (const std::exception& e) {
            return {false, e.what()};
        }
    }
    int fds[2];
    if (pipe(fds) != 0) return {false, "pipe failed"};
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        std::string msg;
        try {
            std::string r = run_test(dir, opt);
            msg = r.empty() ? "PASS" : "FAIL " + r;
        } catch (const std::exception& e) {
            msg = std::string("FAIL ") + e.what();
        }
        ssize_t w = write(fds[1], msg.data(), msg.size());
        (void)w;
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    std::string msg;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    bool timed_out = false;
    char buf[4096];
    while (true) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int r = poll(&p, 1, static_cast<int>(left));
        if (r <= 0) continue;
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        msg.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (timed_out) return {false, str_cat("HANG: no result within ", timeout_s, " s")};
    if (WIFSIGNALED(status)) return {false, str_cat("CRASH: signal ", WTERMSIG(status))};
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return {false, str_cat("CRASH: exit status ", WEXITSTATUS(status), " ", msg)};
    if (msg == "PASS") return {true, ""};
    if (msg.rfind("FAIL ", 0) == 0) return {false, msg.substr(5)};
    return {false, "CRASH: no result reported"};
}

std::string first_line(std::string s, size_t max = 240) {
    auto nl = s.find('\n');
    if (nl != std::string::npos) s = s.substr(0, nl);
    if (s.size() > max) s = s.substr(0, max) + "...";
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Runs the ONNX backend test suite through Kiln"};
    std::string data_dir = "/usr/share/libonnx-testdata/data";
    std::string expected_file, write_expected, filter;
    bool quiet = false, no_ir = false, no_fork = false;
    int timeout_s = 120;
    Options opt;
    app.add_option("--data", data_dir, "directory holding node/, pytorch-converted/, ...");
    app.add_option("--expected", expected_file, "tests expected to pass; any failure among them fails the run");
    app.add_option("--write-expected", write_expected, "write the passing tests to this file");
    app.add_option("--filter", filter, "only tests whose suite/name matches this glob");
    app.add_option("--timeout", timeout_s, "seconds per test");
    app.add_flag("--quiet", quiet, "print only the summary and regressions");
    app.add_flag("--no-ir-roundtrip", no_ir, "skip the IR save/load check");
    app.add_flag("--no-fork", no_fork, "run tests in this process (for debugging)");
    CLI11_PARSE(app, argc, argv);
    opt.ir_roundtrip = !no_ir;

    if (!fs::exists(data_dir)) {
        std::cerr << "ONNX test data not found at " << data_dir
                  << " (install the Debian package libonnx-testdata)\n";
        return 2;
    }
    std::set<std::string> expected;
    if (!expected_file.empty()) {
        std::ifstream f(expected_file);
        if (!f) {
            std::cerr << "cannot read " << expected_file << "\n";
            return 2;
        }
        for (std::string line; std::getline(f, line);)
            if (!line.empty() && line[0] != '#') expected.insert(line);
    }

    std::map<std::string, std::pair<int, int>> counts;  // suite -> (passed, total)
    std::vector<std::string> passed, regressions;
    std::map<std::string, int> reasons;
    int skipped = 0;
    for (const char* suite : kSuites) {
        fs::path sdir = fs::path(data_dir) / suite;
        if (!fs::exists(sdir)) continue;
        std::vector<fs::path> tests;
        for (const auto& e : fs::directory_iterator(sdir))
            if (e.is_directory()) tests.push_back(e.path());
        std::sort(tests.begin(), tests.end());
        for (const auto& t : tests) {
            const std::string id = std::string(suite) + "/" + t.filename().string();
            if (!filter.empty() && fnmatch(filter.c_str(), id.c_str(), 0) != 0) continue;
            auto& [np, nt] = counts[suite];
            ++nt;
            if (is_random_test(t.filename().string())) {
                ++skipped;
                if (!quiet) std::cout << "SKIP " << id << " (random output)\n";
                continue;
            }
            Outcome o = run_isolated(t, opt, timeout_s, !no_fork);
            if (o.pass) {
                ++np;
                passed.push_back(id);
                if (!quiet) std::cout << "PASS " << id << "\n";
            } else {
                std::string reason = first_line(o.reason);
                if (!quiet) std::cout << "FAIL " << id << ": " << reason << "\n";
                if (expected.count(id)) regressions.push_back(id + ": " + reason);
                ++reasons[first_line(reason, 90)];
            }
            std::cout.flush();
        }
    }
    int total_pass = 0, total = 0;
    std::cout << "\nONNX backend conformance\n";
    for (const auto& [suite, c] : counts) {
        std::cout << "  " << suite << ": " << c.first << " / " << c.second << " passed\n";
        total_pass += c.first;
        total += c.second;
    }
    std::cout << "  total: " << total_pass << " / " << total << " passed (" << skipped
              << " skipped for random outputs)\n";
    if (!write_expected.empty()) {
        std::ofstream f(write_expected);
        f << "# ONNX backend tests that must pass (regenerate with `make conformance-update`)\n";
        for (const auto& id : passed) f << id << "\n";
    }
    if (!regressions.empty()) {
        std::cout << "\nREGRESSIONS (" << regressions.size() << " tests expected to pass failed):\n";
        for (const auto& r : regressions) std::cout << "  " << r << "\n";
    }
    return regressions.empty() ? 0 : 1;
}
