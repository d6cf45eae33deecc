// libFuzzer target: arbitrary bytes as an IR .xml (with a small .bin beside it) must give a model
// or a kiln::Error.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "kiln/ir.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string dir = "/tmp/kiln-fuzz-ir-" + std::to_string(getpid());
    static bool init = [] {
        std::string cmd = "mkdir -p " + dir;
        if (std::system(cmd.c_str()) != 0) return false;
        std::ofstream bin(dir + "/m.bin", std::ios::binary);
        for (int i = 0; i < 256; ++i) bin.put(static_cast<char>(i));
        return true;
    }();
    if (!init) return 0;
    {
        std::ofstream xml(dir + "/m.xml", std::ios::binary);
        xml.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    try {
        kiln::read_ir(dir + "/m.xml");
    } catch (const kiln::Error&) {
    }
    return 0;
}
