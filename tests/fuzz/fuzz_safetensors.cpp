// libFuzzer target: arbitrary bytes as a .safetensors file must give tensors that lie inside the
// file, or a kiln::Error.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "frontends/hf/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path =
        "/tmp/kiln-fuzz-safetensors-" + std::to_string(getpid()) + ".safetensors";
    {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    try {
        const kiln::hf::SafetensorsFile file(path);
        volatile unsigned char sink = 0;
        for (const auto& name : file.names()) {
            const kiln::Tensor t = file.tensor(name);
            const auto* bytes = static_cast<const unsigned char*>(t.raw_data());
            for (size_t i = 0; i < t.byte_size(); ++i) sink = sink ^ bytes[i];  // ASan checks reads
        }
    } catch (const kiln::Error&) {
    }
    return 0;
}
