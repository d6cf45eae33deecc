#include <iostream>

#include "kiln/runtime.hpp"

int main(int argc, char** argv) {
    std::cerr << "kiln: no subcommands yet\n";
    return argc > 1 ? 1 : 0;
}
