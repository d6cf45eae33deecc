// libFuzzer target: arbitrary bytes as an ONNX model must give a model or a kiln::Error.
#include <cstdint>
#include <string>

#include "kiln/onnx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const std::string bytes(reinterpret_cast<const char*>(data), size);
        kiln::read_onnx_from_memory(bytes, "/nonexistent");
    } catch (const kiln::Error&) {
    }
    return 0;
}
