// blocklens-cli: a thin main; every command lives in core/cli/.
#include "cli/cli.hpp"

#include <iostream>

int main(int argc, char** argv)
{
    std::ios::sync_with_stdio(false);
    return blocklens::cli::runCli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
