#pragma once
// Runs blocklens-cli in-process (cli::runCli) and keeps what it printed, for the CLI tests.
#include "cli/cli.hpp"

#include <sstream>
#include <string>
#include <vector>

namespace blocklens::test {

struct CliResult {
    int code;
    std::string out, err;
};

inline CliResult runCliCaptured(const std::vector<std::string>& args)
{
    std::ostringstream out, err;
    const int code = cli::runCli(args, out, err);
    return {code, out.str(), err.str()};
}

} // namespace blocklens::test
