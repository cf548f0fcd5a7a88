// blocklens-cli: a thin main; every command lives in cli/.
#include "cli/cli.hpp"
#include "util/signals.hpp"

#include <iostream>

int main(int argc, char** argv)
{
    // ulimit -f: report "the disk is full (or the file size limit was reached) ... rolled back"
    // instead of dying with SIGXFSZ (exit 153).
    blocklens::ignoreFileSizeLimitSignal();
    std::ios::sync_with_stdio(false);
    return blocklens::cli::runCli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
