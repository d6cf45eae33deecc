#pragma once
// Helpers for tests that run the built `kiln` binary.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "../unit/temp_dir_test.hpp"

namespace kiln::e2e {

namespace fs = std::filesystem;

inline const char* kTestData = "/usr/share/libonnx-testdata/data";

struct CliResult {
    int code = -1;  // exit status; 128 + signal number when killed by a signal
    std::string out, err;
};

inline std::string read_text(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline void write_text(const fs::path& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

/// A fresh directory per test (removed afterwards) and the kiln binary to run in it.
class CliTest : public kiln::test_data::TempDirTest {
protected:
    static std::string kiln_path() { return std::string(KILN_BINARY_DIR) + "/kiln"; }

    /// Runs `kiln ARGS` (ARGS is shell text) and captures its exit code and output.
    CliResult kiln(const std::string& args) const {
        const fs::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
        const std::string cmd = quote(kiln_path()) + " " + args + " >" + quote(out.string()) +
                                " 2>" + quote(err.string()) + " </dev/null";
        const int status = std::system(cmd.c_str());
        CliResult r;
        if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) r.code = 128 + WTERMSIG(status);
        r.out = read_text(out);
        r.err = read_text(err);
        return r;
    }

    /// Expects the failure contract: exit code 1 and exactly one line "kiln: error: ..." on
    /// stderr (no abort, no sanitizer report, no stack trace).
    static void expect_clean_error(const CliResult& r, const std::string& must_contain = "") {
        EXPECT_EQ(r.code, 1) << "stderr: " << r.err;
        EXPECT_EQ(r.err.rfind("kiln: error: ", 0), 0u) << "stderr: " << r.err;
        ASSERT_FALSE(r.err.empty());
        EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
        if (!must_contain.empty()) {
            EXPECT_NE(r.err.find(must_contain), std::string::npos)
                << "expected '" << must_contain << "' in: " << r.err;
        }
    }
};

}  // namespace kiln::e2e
