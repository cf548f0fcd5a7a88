#pragma once
// Entry point of blocklens-cli, callable in-process (tests) or from main().
#include <iosfwd>
#include <string>
#include <vector>

namespace blocklens::cli {

// args excludes the program name. Returns the process exit code: 0 success, 1 bad input or a
// failed operation (one line "blocklens-cli: error: ..." on err), 2 usage error.
int runCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

} // namespace blocklens::cli
