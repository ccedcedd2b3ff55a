// livefour-emulator — entry point: command line in, server out. See docs/emulator.md.
#include "options.hpp"
#include "server.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
    using namespace livefour::emulator;
    const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    const auto parsed = parse_options(args, [](const char* name) { return std::getenv(name); });
    if (parsed.help) {
        std::cout << usage_text();
        return 0;
    }
    if (!parsed.error.empty()) {
        std::cerr << "livefour-emulator: " << parsed.error << '\n';
        return 2;
    }
    try {
        return run_server(parsed.opts);
    } catch (const std::exception& e) {
        std::cerr << "livefour-emulator: " << e.what() << '\n';
        return 1;
    }
}
