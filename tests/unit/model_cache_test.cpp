// CACHE_DIR: a second compile of the same file loads the cached graph; other properties or
// another file miss; corrupt and stale entries are ignored with a warning and rewritten.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "kiln/runtime.hpp"
#include "runtime/model_cache.hpp"

using namespace kiln;
namespace fs = std::filesystem;

namespace {

const std::string kConv =
    "/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d/model.onnx";

class ModelCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("kiln_cache_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        model_ = (dir_ / "conv.onnx").string();
        fs::copy_file(kConv, model_);
        cache_ = (dir_ / "cache").string();
    }
    void TearDown() override { fs::remove_all(dir_); }

    /// Compiles through the cache; returns LOADED_FROM_CACHE and the warnings printed.
    std::pair<bool, std::string> compile(const AnyMap& extra = {}) {
        AnyMap props = extra;
        props["CACHE_DIR"] = cache_;
        ::testing::internal::CaptureStderr();
        const CompiledModel cm = core_.compile_model(model_, "CPU", props);
        const std::string err = ::testing::internal::GetCapturedStderr();
        last_output_ = run(cm);
        return {cm.get_property("LOADED_FROM_CACHE") == "YES", err};
    }
    static Tensor run(const CompiledModel& cm) {
        InferRequest r = cm.create_infer_request();
        const Output in = cm.inputs()[0];
        Tensor x(in.element_type(), in.partial_shape().to_shape());
        std::mt19937 gen(5);
        for (int64_t i = 0; i < x.size(); ++i) x.data<float>()[i] = static_cast<float>(gen() % 7);
        r.set_input_tensor(x);
        r.infer();
        return r.get_output_tensor().clone();
    }
    std::vector<fs::path> entries(const std::string& ext) const {
        std::vector<fs::path> v;
        for (const auto& e : fs::directory_iterator(cache_))
            if (e.path().extension() == ext) v.push_back(e.path());
        return v;
    }

    Core core_;
    fs::path dir_;
    std::string model_, cache_;
    Tensor last_output_;
};

TEST_F(ModelCacheTest, SecondCompileLoadsTheCachedGraph) {
    const Tensor uncached = run(core_.compile_model(model_));
    auto [hit, err] = compile();
    EXPECT_FALSE(hit);
    EXPECT_EQ(err, "");
    ASSERT_EQ(entries(".xml").size(), 1u);
    EXPECT_EQ(entries(".bin").size(), 1u);
    EXPECT_EQ(entries(".key").size(), 1u);
    std::tie(hit, err) = compile();
    EXPECT_TRUE(hit);
    EXPECT_EQ(err, "");
    EXPECT_TRUE(last_output_.identical(uncached));
    // Without CACHE_DIR nothing is cached or loaded.
    EXPECT_EQ(core_.compile_model(model_).get_property("LOADED_FROM_CACHE"), "NO");
}

TEST_F(ModelCacheTest, OtherPropertiesOrAnotherFileMiss) {
    EXPECT_FALSE(compile().first);
    EXPECT_FALSE(compile({{"INFERENCE_PRECISION_HINT", "bf16"}}).first);
    EXPECT_TRUE(compile({{"INFERENCE_PRECISION_HINT", "bf16"}}).first);
    EXPECT_EQ(entries(".xml").size(), 2u);
    // The same file name with other bytes.
    fs::copy_file("/usr/share/libonnx-testdata/data/pytorch-converted/test_Conv2d_groups/model.onnx",
                  model_, fs::copy_options::overwrite_existing);
    EXPECT_FALSE(compile().first);
    EXPECT_EQ(entries(".xml").size(), 3u);
}

TEST_F(ModelCacheTest, CorruptEntriesAreRecompiledWithAWarning) {
    const Tensor uncached = run(core_.compile_model(model_));
    ASSERT_FALSE(compile().first);
    const fs::path xml = entries(".xml").at(0);
    fs::path bin = xml;
    bin.replace_extension(".bin");

    std::ofstream(xml, std::ios::trunc) << "<net version=\"11\"><layers><layer";  // garbage XML
    auto [hit, err] = compile();
    EXPECT_FALSE(hit);
    EXPECT_NE(err.find("warning: CACHE_DIR"), std::string::npos) << err;
    EXPECT_TRUE(last_output_.identical(uncached));
    EXPECT_TRUE(compile().first);  // rewritten

    fs::resize_file(bin, 10);  // truncated weights
    std::tie(hit, err) = compile();
    EXPECT_FALSE(hit);
    EXPECT_NE(err.find("warning: CACHE_DIR"), std::string::npos) << err;
    EXPECT_TRUE(last_output_.identical(uncached));
    EXPECT_TRUE(compile().first);
}

TEST_F(ModelCacheTest, StaleEntryIsIgnoredWithAWarning) {
    ASSERT_FALSE(compile().first);
    fs::path key = entries(".key").at(0);
    std::ofstream(key, std::ios::trunc) << "kiln-cache-1\nkiln 0.0.1\n";  // another version's
    auto [hit, err] = compile();
    EXPECT_FALSE(hit);
    EXPECT_NE(err.find("another model or version"), std::string::npos) << err;
    EXPECT_TRUE(compile().first);
}

TEST_F(ModelCacheTest, UnwritableDirectoryOnlyWarns) {
    std::ofstream(dir_ / "file") << "x";
    cache_ = (dir_ / "file" / "sub").string();  // below a regular file: cannot be created
    auto [hit, err] = compile();
    EXPECT_FALSE(hit);
    EXPECT_NE(err.find("cannot store"), std::string::npos) << err;
}

TEST(ModelCacheHash, DependsOnEveryByte) {
    const fs::path p = fs::temp_directory_path() / ("kiln_hash_" + std::to_string(::getpid()));
    std::string bytes(1000, 'a');
    std::ofstream(p, std::ios::binary) << bytes;
    const uint64_t h0 = hash_file(p.string());
    bytes[999] = 'b';
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    const uint64_t h1 = hash_file(p.string());
    bytes[999] = 'a';
    bytes[3] = 'b';
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    const uint64_t h2 = hash_file(p.string());
    EXPECT_NE(h0, h1);
    EXPECT_NE(h0, h2);
    EXPECT_NE(h1, h2);
    fs::remove(p);
}

}  // namespace
