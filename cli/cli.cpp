#include "cli/cli.hpp"

#include "cli/command.hpp"
#include "util/error.hpp"
#include "version.hpp"

#include <algorithm>
#include <exception>
#include <iostream>
#include <new>

namespace blocklens::cli {
namespace {

constexpr const char* kProgram = "blocklens-cli";

void printOverview(std::ostream& out)
{
    out << "usage: " << kProgram << " COMMAND [ARGS...] [--help]\n\n"
        << "BlockLens " << kVersion << ": explore block attention from the command line.\n\ncommands:\n";
    for (const auto& c : allCommands()) {
        // Names longer than the column push its first line right; it still ends by kHelpWidth.
        const std::size_t start = 2 + std::max<std::size_t>(14, c.name.size() + 1);
        out << "  " << c.name << std::string(start - 2 - c.name.size(), ' ')
            << wrap(c.spec.summary(), kHelpWidth - start, kHelpWidth - 16, 16) << "\n";
    }
    out << "\nRun '" << kProgram << " COMMAND --help' for the options of a command.\n";
}

// Errors are one line: a message that carries text from elsewhere (SQLite's reports, a file
// name with a newline in it) must not break that.
std::string oneLine(std::string text)
{
    for (char& c : text)
        if (c == '\n' || c == '\r')
            c = ' ';
    return text;
}

} // namespace

int runCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err)
{
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        printOverview(args.empty() ? err : out);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        out << kProgram << " " << kVersion << "\n";
        return 0;
    }
    const Command* command = nullptr;
    for (const auto& c : allCommands())
        if (c.name == args[0])
            command = &c;
    if (!command) {
        err << kProgram << ": error: unknown command '" << args[0] << "' (see '" << kProgram << " --help')\n";
        return 2;
    }
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    for (const auto& a : rest)
        if (a == "--help" || a == "-h") {
            out << command->spec.help(std::string(kProgram) + " " + command->name);
            return 0;
        }
    Io io{out, err};
    try {
        const auto parsed = command->spec.parse(rest);
        return command->run(parsed, io);
    } catch (const UsageError& e) {
        err << kProgram << " " << command->name << ": error: " << oneLine(e.message) << " (see --help)\n";
        return 2;
    } catch (const Error& e) {
        err << kProgram << " " << command->name << ": error: " << oneLine(e.what()) << "\n";
        return 1;
    } catch (const std::bad_alloc&) {
        err << kProgram << " " << command->name << ": error: out of memory\n";
        return 1;
    } catch (const std::exception& e) {
        err << kProgram << " " << command->name << ": error: " << oneLine(e.what()) << "\n";
        return 1;
    }
}

} // namespace blocklens::cli
