// The kiln CLI as users see it: help, version, successful runs, and clean failures.
#include <random>
#include <regex>

#include "cli_support.hpp"
#include "kiln/npy.hpp"
#include "kiln/onnx.hpp"

namespace kiln::e2e {
namespace {

// Identity keeps these tests independent of which operator families are built in.
const std::string kIdDir = std::string(kTestData) + "/node/test_identity";
const std::string kIdModel = kIdDir + "/model.onnx";
const std::string kIdData = kIdDir + "/test_data_set_0";

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
    EXPECT_EQ(kiln("info --no-such-flag " + quote(kIdModel)).code, 2);
    EXPECT_EQ(kiln("run " + quote(kIdModel) + " --format csv").code, 2);
}

using CliRun = CliTest;

TEST_F(CliRun, InfoShowsPortsAndOps) {
    const CliResult r = kiln("info " + quote(kIdModel));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("Inputs (1)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("[1,1,2,2]"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Parameter"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Parameters:"), std::string::npos) << r.out;
}

TEST_F(CliRun, RunsOnnxTestDataAndChecksIt) {
    const CliResult r = kiln("run " + quote(kIdModel) + " --input-dir " + quote(kIdData) +
                             " --expected-dir " + quote(kIdData) + " -o " + quote(dir_ / "out"));
    ASSERT_EQ(r.code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("matches"), std::string::npos) << r.out;
    const Tensor written = read_onnx_tensor((dir_ / "out" / "output_0.pb").string());
    EXPECT_TRUE(written.identical(read_onnx_tensor(kIdData + "/output_0.pb")));
}

TEST_F(CliRun, NpyInputsAndOutputs) {
    write_npy(read_onnx_tensor(kIdData + "/input_0.pb"), (dir_ / "x.npy").string());
    const CliResult r = kiln("run " + quote(kIdModel) + " --input x=" + quote(dir_ / "x.npy") +
                             " -o " + quote(dir_ / "out") + " --format npy");
    ASSERT_EQ(r.code, 0) << r.err;
    const Tensor y = read_npy((dir_ / "out" / "output_0.npy").string());
    EXPECT_TRUE(y.identical(read_onnx_tensor(kIdData + "/output_0.pb")));
}

TEST_F(CliRun, InferPrecisionIsPassedAndChecked) {
    const std::string run = "run " + quote(kIdModel) + " --input-dir " + quote(kIdData) +
                            " --expected-dir " + quote(kIdData);
    const CliResult bf16 = kiln(run + " --infer-precision bf16");
    ASSERT_EQ(bf16.code, 0) << bf16.err << bf16.out;
    EXPECT_EQ(kiln(run + " --infer-precision f16").code, 2);
}

TEST_F(CliRun, MismatchWithExpectedFails) {
    fs::create_directories(dir_ / "expected");
    Tensor wrong = read_onnx_tensor(kIdData + "/output_0.pb").clone();
    wrong.data<float>()[3] += 1.0f;
    write_npy(wrong, (dir_ / "expected" / "output_0.npy").string());
    const CliResult r = kiln("run " + quote(kIdModel) + " --input-dir " + quote(kIdData) +
                             " --expected-dir " + quote(dir_ / "expected"));
    expect_clean_error(r, "differ");
    EXPECT_NE(r.out.find("element 3"), std::string::npos) << r.out;
}

TEST_F(CliRun, ConvertThenRunTheIr) {
    const CliResult c = kiln("convert " + quote(kIdModel) + " -o " + quote(dir_ / "ir/id.xml"));
    if (c.code != 0 && c.err.find("not available") != std::string::npos)
        GTEST_SKIP() << "IR writer not available in this build: " << c.err;
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_TRUE(fs::exists(dir_ / "ir/id.xml"));
    EXPECT_TRUE(fs::exists(dir_ / "ir/id.bin"));
    EXPECT_EQ(kiln("info " + quote(dir_ / "ir/id.xml")).code, 0);
    const CliResult r = kiln("run " + quote(dir_ / "ir/id.xml") + " --input-dir " + quote(kIdData) +
                             " --expected-dir " + quote(kIdData));
    EXPECT_EQ(r.code, 0) << r.err << r.out;
}

TEST_F(CliRun, CompressToFp16KeepsResultsClose) {
    const std::string conv = std::string(kTestData) + "/pytorch-converted/test_Conv2d";
    const fs::path xml = dir_ / "conv.xml";
    const CliResult c = kiln("convert " + quote(conv + "/model.onnx") + " -o " + quote(xml) +
                             " --compress-to-fp16");
    ASSERT_EQ(c.code, 0) << c.err;
    EXPECT_NE(c.out.find("float16"), std::string::npos) << c.out;
    const CliResult info = kiln("info " + quote(xml));
    ASSERT_EQ(info.code, 0) << info.err;
    EXPECT_NE(info.out.find("Convert"), std::string::npos) << info.out;
    const std::string data = quote(conv + "/test_data_set_0");
    const CliResult r = kiln("run " + quote(xml) + " --input-dir " + data + " --expected-dir " +
                             data + " --rtol 1e-2 --atol 1e-2");
    EXPECT_EQ(r.code, 0) << r.err << r.out;
}

TEST_F(CliRun, ConvertWritesBesideTheWorkingDirectoryByDefault) {
    const std::string cmd = "cd " + quote(dir_) + " && " + quote(kiln_path()) + " convert " +
                            quote(kIdModel) + " >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_TRUE(fs::exists(dir_ / "model.xml"));
    EXPECT_TRUE(fs::exists(dir_ / "model.bin"));
    // Converting an IR onto itself is refused rather than clobbering the mapped weights.
    expect_clean_error(
        kiln("convert " + quote(dir_ / "model.xml") + " -o " + quote(dir_ / "model.xml")),
        "overwrite");
}

}  // namespace
}  // namespace kiln::e2e
