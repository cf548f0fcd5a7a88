// The CLI's argument parser: the input is a command line, arguments separated by NUL bytes. The
// first argument picks the command by name (or, if it names none, its first byte picks one), and
// the rest is parsed with that command's ArgSpec, as runCli does before running it; every value
// given is then read as an integer and as a number, as commands do. Commands are not run: this
// tests the parser, not what the commands do with files.
#include "fuzz_util.hpp"

#include "cli/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace blocklens::cli;
    if (size == 0)
        return 0;
    auto args = blocklens::fuzz::split(blocklens::fuzz::bytes(data, size), '\0');
    const auto commands = allCommands();
    const Command* command = &commands[static_cast<unsigned char>(args[0].empty() ? 0 : args[0][0]) % commands.size()];
    for (const auto& c : commands)
        if (c.name == args[0])
            command = &c;
    args.erase(args.begin());
    try {
        const auto parsed = command->spec.parse(args);
        for (const auto& name : parsed.given) {
            try {
                (void)parsed.integer(name);
            } catch (const UsageError&) {
            }
            try {
                (void)parsed.number(name);
            } catch (const UsageError&) {
            }
        }
    } catch (const UsageError& e) {
        if (e.message.empty())
            blocklens::fuzz::fail("ArgSpec::parse", "a usage error without a message");
    } catch (const std::exception& e) {
        blocklens::fuzz::fail("ArgSpec::parse", std::string("escaped as a non-usage exception: ") + e.what());
    }
    (void)command->spec.help("blocklens-cli " + command->name);
    return 0;
}
