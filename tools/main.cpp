// kiln: inspect, convert and run models from the command line.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "kiln/error.hpp"

namespace {

// Errors are reported on one line so that scripts can show or grep them. Names read from a
// corrupt file may hold control characters: they are escaped, not printed.
std::string one_line(std::string msg) {
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    std::string out;
    for (size_t i = 0; i < msg.size(); ++i) {
        const char c = msg[i];
        const auto u = static_cast<unsigned char>(c);
        // Unicode line breaks in UTF-8: NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR.
        if (msg.compare(i, 2, "\xc2\x85") == 0 || msg.compare(i, 3, "\xe2\x80\xa8") == 0 ||
            msg.compare(i, 3, "\xe2\x80\xa9") == 0) {
            out += '?';
            i += u == 0xc2 ? 1 : 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            out += ' ';
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

int report(const std::string& msg) {
    std::cerr << "kiln: error: " << one_line(msg) << std::endl;
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace kiln::tools;
    CLI::App app{"Kiln: convert, inspect and run neural network models (ONNX and Kiln IR).",
                 "kiln"};
    app.set_version_flag("--version", std::string("kiln ") + kVersion);
    app.require_subcommand(1);
    app.footer("Run 'kiln COMMAND --help' for the options of a command.");

    std::vector<Command> commands{add_info_command(app), add_convert_command(app),
                                  add_run_command(app), add_benchmark_command(app),
                                  add_tokenize_command(app), add_compress_command(app),
                                  add_generate_command(app), add_perplexity_command(app)};
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);  // prints help, the version, or the usage error
        return code == 0 ? 0 : 2;
    }

    try {
        for (const auto& c : commands)
            if (c.app->parsed()) c.run();
        return 0;
    } catch (const kiln::Error& e) {
        return report(e.what());
    } catch (const std::bad_alloc&) {
        return report("out of memory");
    } catch (const std::exception& e) {
        return report(e.what());
    } catch (...) {
        return report("unknown error");
    }
}
