// libFuzzer target: arbitrary bytes as a chat template must parse and render (with a small
// conversation) or give a kiln::Error.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "kiln/chat_template.hpp"
#include "kiln/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const nlohmann::json extra = {{"bos_token", "<s>"},
                                         {"eos_token", "</s>"},
                                         {"tools", nlohmann::json::array({{{"name", "f"}}})}};
    try {
        kiln::ChatTemplate t(std::string(reinterpret_cast<const char*>(data), size));
        t.apply({{"system", "sys"}, {"user", "hi"}, {"assistant", "yo"}}, true, extra);
    } catch (const kiln::Error&) {
    }
    return 0;
}
