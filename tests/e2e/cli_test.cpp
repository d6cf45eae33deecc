// The kiln CLI as users see it: help, version, successful runs, and clean failures.
#include <random>
#include <regex>

#include "cli_support.hpp"
#include "kiln/npy.hpp"
#include "kiln/onnx.hpp"

namespace kiln::e2e {
namespace {

const std::string kAbsDir = std::string(kTestData) + "/node/test_abs";
const std::string kAbsModel = kAbsDir + "/model.onnx";
const std::string kAbsData = kAbsDir + "/test_data_set_0";

using CliHelp = CliTest;

TEST_F(CliHelp, TopLevelHelpListsCommands) {
    const CliResult r = kiln("--help");
    EXPECT_EQ(r.code, 0) << r.err;
    for (const char* cmd : {"info", "convert", "run"})
        EXPECT_NE(r.out.find(cmd), std::string::npos) << r.out;
}

TEST_F(CliHelp, EverySubcommandHasHelp) {
    for (const char* cmd : {"info", "convert", "run"}) {
        const CliResult r = kiln(std::string(cmd) + " --help");
        EXPECT_EQ(r.code, 0) << cmd << ": " << r.err;
        EXPECT_NE(r.out.find(std::string("kiln ") + cmd), std::string::npos) << r.out;
    }
    EXPECT_NE(kiln("run --help").out.find("--input-dir"), std::string::npos);
    EXPECT_NE(kiln("convert --help").out.find("--compress-to-fp16"), std::string::npos);
}

TEST_F(CliHelp, VersionMatchesTheProject) {
    const CliResult r = kiln("--version");
    EXPECT_EQ(r.code, 0);
    const std::string cmake = read_text(std::string(KILN_SOURCE_DIR) + "/CMakeLists.txt");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(cmake, m, std::regex(R"(project\(kiln VERSION ([0-9.]+))")));
    EXPECT_EQ(r.out, "kiln " + m[1].str() + "\n");
}

TEST_F(CliHelp, UsageErrorsExitWithTwo) {
    EXPECT_EQ(kiln("").code, 2);
    EXPECT_EQ(kiln("frobnicate").code, 2);
    EXPECT_EQ(kiln("info").code, 2);  // model missing
    EXPECT_EQ(kiln("info --no-such-flag " + quote(kAbsModel)).code, 2);
    EXPECT_EQ(kiln("run " + quote(kAbsModel) + " --format csv").code, 2);
}

using CliRun = CliTest;

TEST_F(CliRun, InfoShowsPortsAndOps) {
    const CliResult r = kiln("info " + quote(kAbsModel));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("Inputs (1)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[3,4,5]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Abs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Parameters:"), std::string::npos) << r.out;
}

TEST_F(CliRun, RunsOnnxTestDataAndChecksIt) {
    const CliResult r = kiln("run " + quote(kAbsModel) + " --input-dir " + quote(kAbsData) +
                             " --expected-dir " + quote(kAbsData) + " -o " + quote(dir_ / "out"));
    ASSERT_EQ(r.code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("matches"), std::string::npos) << r.out;
    const Tensor written = read_onnx_tensor((dir_ / "out" / "output_0.pb").string());
    EXPECT_TRUE(written.identical(read_onnx_tensor(kAbsData + "/output_0.pb")));
}

TEST_F(CliRun, NpyInputsAndOutputs) {
    write_npy(read_onnx_tensor(kAbsData + "/input_0.pb"), (dir_ / "x.npy").string());
    const CliResult r = kiln("run " + quote(kAbsModel) + " --input x=" + quote(dir_ / "x.npy") +
                             " -o " + quote(dir_ / "out") + " --format npy");
    ASSERT_EQ(r.code, 0) << r.err;
    const Tensor y = read_npy((dir_ / "out" / "output_0.npy").string());
    EXPECT_TRUE(y.identical(read_onnx_tensor(kAbsData + "/output_0.pb")));
}

TEST_F(CliRun, MismatchWithExpectedFails) {
    fs::create_directories(dir_ / "expected");
    Tensor wrong = read_onnx_tensor(kAbsData + "/output_0.pb").clone();
    wrong.data<float>()[7] += 1.0f;
    write_npy(wrong, (dir_ / "expected" / "output_0.npy").string());
    const CliResult r = kiln("run " + quote(kAbsModel) + " --input-dir " + quote(kAbsData) +
                             " --expected-dir " + quote(dir_ / "expected"));
    expect_clean_error(r, "differ");
    EXPECT_NE(r.out.find("element 7"), std::string::npos) << r.out;
}

TEST_F(CliRun, ConvertThenRunTheIr) {
    const CliResult c = kiln("convert " + quote(kAbsModel) + " -o " + quote(dir_ / "ir/abs.xml"));
    if (c.code != 0 && c.err.find("not available") != std::string::npos)
        GTEST_SKIP() << "IR writer not available in this build: " << c.err;
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_TRUE(fs::exists(dir_ / "ir/abs.xml"));
    EXPECT_TRUE(fs::exists(dir_ / "ir/abs.bin"));
    EXPECT_EQ(kiln("info " + quote(dir_ / "ir/abs.xml")).code, 0);
    const CliResult r = kiln("run " + quote(dir_ / "ir/abs.xml") + " --input-dir " +
                             quote(kAbsData) + " --expected-dir " + quote(kAbsData));
    EXPECT_EQ(r.code, 0) << r.err << r.out;
}

}  // namespace
}  // namespace kiln::e2e
