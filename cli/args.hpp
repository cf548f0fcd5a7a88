#pragma once
// A small declarative option parser for blocklens-cli subcommands: each command declares its
// positionals, flags and valued options once, which gives both parsing and --help text.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace blocklens::cli {

struct UsageError {
    std::string message;
};

inline constexpr std::size_t kHelpWidth = 80; // --help fits a standard terminal

// `text` broken at spaces: the first line holds at most `firstWidth` columns (it follows what is
// already written), later ones `width` columns after an indent of `indent` spaces. A word longer
// than a line gets a line of its own.
std::string wrap(const std::string& text, std::size_t firstWidth, std::size_t width, std::size_t indent);

class ArgSpec {
public:
    ArgSpec(std::string usage, std::string summary) : usage_(std::move(usage)), summary_(std::move(summary)) {}

    ArgSpec& positional(std::string name, std::string help, bool required = true);
    ArgSpec& flag(std::string name, std::string help);                     // --name
    ArgSpec& option(std::string name, std::string placeholder, std::string help,
                    std::string defaultValue = {});                       // --name VALUE
    ArgSpec& repeated(std::string name, std::string placeholder, std::string help); // --name V, many times

    std::string help(const std::string& program) const;
    const std::string& summary() const { return summary_; }

    struct Parsed;
    // Throws UsageError naming the unknown option or missing value.
    Parsed parse(const std::vector<std::string>& args) const;

private:
    struct Positional { std::string name, help; bool required; };
    struct Option { std::string name, placeholder, help, defaultValue; bool takesValue; bool repeated; };
    const Option* find(const std::string& name) const;

    std::string usage_, summary_;
    std::vector<Positional> positionals_;
    std::vector<Option> options_;
};

struct ArgSpec::Parsed {
    std::vector<std::string> positionals;
    std::set<std::string> flags;
    std::map<std::string, std::string> values;                 // set or defaulted
    std::map<std::string, std::vector<std::string>> lists;     // repeated options
    std::set<std::string> given;                               // options the user typed

    bool flag(const std::string& name) const { return flags.count(name) > 0; }
    bool has(const std::string& name) const { return given.count(name) > 0; }
    std::string value(const std::string& name) const;
    std::optional<std::string> optional(const std::string& name) const;
    std::int64_t integer(const std::string& name) const;  // throws UsageError on a non-number
    double number(const std::string& name) const;
};

} // namespace blocklens::cli
