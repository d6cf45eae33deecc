// kiln: inspect, convert and run models from the command line.
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "kiln/error.hpp"

namespace {

// Errors are reported on one line so that scripts can show or grep them.
std::string one_line(std::string msg) {
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    for (char& c : msg)
        if (c == '\n' || c == '\r') c = ' ';
    return msg;
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
                                  add_run_command(app)};
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
