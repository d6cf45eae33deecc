#include "runtime/model_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cpu/kernels/gemm/gemm.hpp"
#include "kiln/ir.hpp"

#ifndef KILN_VERSION
#define KILN_VERSION "dev"
#endif

namespace kiln {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCacheFormat = "kiln-cache-1";

uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

/// Four independent lanes of multiply-rotate, so the multiplications overlap (GB/s).
uint64_t hash_bytes(const unsigned char* p, size_t n, uint64_t seed) {
    uint64_t lane[4] = {seed, seed ^ 0x9e3779b97f4a7c15ULL, seed + 1, seed - 1};
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        for (int l = 0; l < 4; ++l) {
            uint64_t w;
            std::memcpy(&w, p + i + 8 * l, 8);
            lane[l] = (lane[l] ^ w) * 0x9fb21c651e98df25ULL;
            lane[l] = (lane[l] << 29) | (lane[l] >> 35);
        }
    }
    uint64_t h = mix(lane[0]) ^ mix(lane[1] + 1) ^ mix(lane[2] + 2) ^ mix(lane[3] + 3);
    for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
    return mix(h ^ n);
}

std::string hex(uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

void warn(const std::string& msg) { std::cerr << "kiln: warning: CACHE_DIR: " << msg << std::endl; }

}  // namespace

uint64_t hash_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    KILN_CHECK(fd >= 0, "cannot open '", path, "' to hash it");
    struct stat st {};
    ::fstat(fd, &st);
    const size_t n = static_cast<size_t>(st.st_size);
    uint64_t h = 0;
    if (n > 0) {
        void* p = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            KILN_THROW("cannot map '", path, "' to hash it");
        }
        h = hash_bytes(static_cast<const unsigned char*>(p), n, 0x6b696c6e);
        ::munmap(p, n);
    }
    ::close(fd);
    return h;
}

ModelCache::ModelCache(const std::string& dir, const std::string& model_path,
                       const AnyMap& properties)
    : dir_(dir) {
    std::ostringstream text;
    text << kCacheFormat << "\nkiln " << KILN_VERSION << "\nisa "
         << cpu::gemm::isa_name(cpu::gemm::best_isa()) << "\n";
    const fs::path p(model_path);
    if (fs::is_directory(p)) {
        // A Hugging Face folder: its config and weights decide the graph.
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(p)) {
            const std::string name = e.path().filename().string();
            const bool weights = name.size() > 12 && name.ends_with(".safetensors");
            if (e.is_regular_file() &&
                (weights || name == "config.json" || name == "model.safetensors.index.json"))
                files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files)
            text << "file " << f.filename().string() << " " << hex(hash_file(f.string())) << "\n";
    } else {
        text << "model " << hex(hash_file(model_path)) << "\n";
    }
    if (p.extension() == ".xml") {
        fs::path bin = p;
        bin.replace_extension(".bin");
        if (fs::exists(bin)) text << "weights " << hex(hash_file(bin.string())) << "\n";
    }
    for (const auto& [k, v] : properties)
        if (k != "CACHE_DIR") text << "property " << k << "=" << v << "\n";
    key_text_ = text.str();
    key_ = hex(hash_bytes(reinterpret_cast<const unsigned char*>(key_text_.data()),
                          key_text_.size(), 1));
}

std::string ModelCache::xml_path() const { return (fs::path(dir_) / (key_ + ".xml")).string(); }

std::shared_ptr<Model> ModelCache::load() const {
    const fs::path xml = xml_path();
    fs::path key_file = xml;
    key_file.replace_extension(".key");
    std::error_code ec;
    if (!fs::exists(xml, ec) || !fs::exists(key_file, ec)) return nullptr;
    std::ifstream kf(key_file, std::ios::binary);
    std::stringstream stored;
    stored << kf.rdbuf();
    if (stored.str() != key_text_) {
        warn("entry '" + xml.string() + "' was written for another model or version; recompiling");
        return nullptr;
    }
    try {
        return read_ir(xml.string());
    } catch (const std::exception& e) {
        warn("cannot read entry '" + xml.string() + "' (" + e.what() + "); recompiling");
        return nullptr;
    }
}

void ModelCache::store(const Model& runtime_model) const {
    // Written under temporary names, then renamed: a reader sees a whole entry or none, and the
    // .key goes last because load() requires it.
    const fs::path xml = xml_path();
    fs::path bin = xml, key_file = xml;
    bin.replace_extension(".bin");
    key_file.replace_extension(".key");
    const std::string tmp = "." + std::to_string(::getpid()) + ".tmp";
    const fs::path tmp_xml = xml.string() + tmp + ".xml";
    fs::path tmp_bin = tmp_xml;
    tmp_bin.replace_extension(".bin");
    try {
        fs::create_directories(dir_);
        save_model(runtime_model, tmp_xml.string());
        {
            std::ofstream kf(key_file.string() + tmp, std::ios::binary | std::ios::trunc);
            kf << key_text_;
            KILN_CHECK(kf.good(), "cannot write '", key_file.string() + tmp, "'");
        }
        fs::rename(tmp_bin, bin);
        fs::rename(tmp_xml, xml);
        fs::rename(key_file.string() + tmp, key_file);
    } catch (const std::exception& e) {
        std::error_code ec;
        fs::remove(tmp_xml, ec);
        fs::remove(tmp_bin, ec);
        fs::remove(key_file.string() + tmp, ec);
        warn(std::string("cannot store the compiled model in '") + dir_ + "' (" + e.what() + ")");
    }
}

}  // namespace kiln
