#include "cli/args.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <sstream>

namespace blocklens::cli {

ArgSpec& ArgSpec::positional(std::string name, std::string help, bool required)
{
    positionals_.push_back({std::move(name), std::move(help), required});
    return *this;
}

ArgSpec& ArgSpec::flag(std::string name, std::string help)
{
    options_.push_back({std::move(name), {}, std::move(help), {}, false, false});
    return *this;
}

ArgSpec& ArgSpec::option(std::string name, std::string placeholder, std::string help, std::string defaultValue)
{
    options_.push_back({std::move(name), std::move(placeholder), std::move(help), std::move(defaultValue), true, false});
    return *this;
}

ArgSpec& ArgSpec::repeated(std::string name, std::string placeholder, std::string help)
{
    options_.push_back({std::move(name), std::move(placeholder), std::move(help), {}, true, true});
    return *this;
}

namespace {
constexpr std::size_t kHelpColumn = 24; // where option descriptions start
} // namespace

namespace {

// One paragraph (no '\n') broken at spaces; see wrap().
std::string wrapParagraph(const std::string& text, std::size_t firstWidth, std::size_t width, std::size_t indent)
{
    std::string out, line;
    std::size_t limit = firstWidth;
    std::istringstream words(text);
    std::string word;
    while (words >> word) {
        if (!line.empty() && line.size() + 1 + word.size() > limit) {
            out += line + "\n" + std::string(indent, ' ');
            line.clear();
            limit = width;
        }
        line += (line.empty() ? "" : " ") + word;
    }
    return out + line;
}

} // namespace

std::string wrap(const std::string& text, std::size_t firstWidth, std::size_t width, std::size_t indent)
{
    // A help text laid out by its author ("one of:\n    init ...") keeps its line breaks and
    // each line's own indentation; only lines too long are broken further.
    std::string out;
    std::size_t begin = 0;
    for (bool first = true;; first = false) {
        const std::size_t end = text.find('\n', begin);
        const std::string piece = text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
        if (first) {
            out += wrapParagraph(piece, firstWidth, width, indent);
        } else {
            const std::size_t lead = std::min(piece.find_first_not_of(' '), piece.size());
            const std::size_t total = width + indent;
            const std::size_t room = total > lead + 8 ? total - lead : 8;
            out += "\n" + (piece.size() <= total ? piece // fits: as laid out
                                                : std::string(lead, ' ') + wrapParagraph(piece.substr(lead), room, room, lead));
        }
        if (end == std::string::npos)
            return out;
        begin = end + 1;
    }
}

const ArgSpec::Option* ArgSpec::find(const std::string& name) const
{
    for (const auto& o : options_)
        if (o.name == name)
            return &o;
    return nullptr;
}

std::string ArgSpec::help(const std::string& program) const
{
    std::ostringstream out;
    // `program` is "blocklens-cli NAME"; a usage written with the command name in front
    // ("info FILE ...") must not repeat it.
    std::string usageLine = program + " " + usage_;
    if (const auto space = program.rfind(' '); space != std::string::npos) {
        const std::string command = program.substr(space + 1);
        if (usage_ == command || usage_.rfind(command + " ", 0) == 0)
            usageLine = program.substr(0, space) + " " + usage_;
    }
    out << "usage: " << wrap(usageLine, kHelpWidth - 7, kHelpWidth - 11, 11) << "\n\n"
        << wrap(summary_, kHelpWidth, kHelpWidth, 0) << "\n";
    // Name and description in two columns; a name too wide for its column gets a line of its own.
    auto line = [&](const std::string& left, const std::string& help) {
        out << "  " << left;
        if (left.size() + 2 < kHelpColumn - 1)
            out << std::string(kHelpColumn - 2 - left.size(), ' ');
        else
            out << "\n" << std::string(kHelpColumn, ' ');
        out << wrap(help, kHelpWidth - kHelpColumn, kHelpWidth - kHelpColumn, kHelpColumn) << "\n";
    };
    if (!positionals_.empty()) {
        out << "\narguments:\n";
        for (const auto& p : positionals_)
            line(p.name, p.help);
    }
    out << "\noptions:\n";
    for (const auto& o : options_) {
        std::string left = "--" + o.name + (o.takesValue ? " " + o.placeholder : "");
        std::string h = o.help;
        if (!o.defaultValue.empty())
            h += " (default: " + o.defaultValue + ")";
        if (o.repeated)
            h += " (repeatable)";
        line(left, h);
    }
    line("-h, --help", "show this help");
    return out.str();
}

ArgSpec::Parsed ArgSpec::parse(const std::vector<std::string>& args) const
{
    Parsed p;
    for (const auto& o : options_)
        if (o.takesValue && !o.repeated && !o.defaultValue.empty())
            p.values[o.name] = o.defaultValue;
    bool onlyPositionals = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (!onlyPositionals && a == "--") {
            onlyPositionals = true;
            continue;
        }
        if (onlyPositionals || a.size() < 2 || a[0] != '-' || a == "-") {
            p.positionals.push_back(a);
            continue;
        }
        std::string name = a.substr(a.starts_with("--") ? 2 : 1);
        std::optional<std::string> inlineValue;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            inlineValue = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const Option* o = find(name);
        if (!o)
            throw UsageError{"unknown option " + a};
        p.given.insert(name);
        if (!o->takesValue) {
            if (inlineValue)
                throw UsageError{"option --" + name + " takes no value"};
            p.flags.insert(name);
            continue;
        }
        std::string v;
        if (inlineValue) {
            v = *inlineValue;
        } else {
            if (i + 1 >= args.size())
                throw UsageError{"option --" + name + " needs a value (" + o->placeholder + ")"};
            v = args[++i];
        }
        if (o->repeated)
            p.lists[name].push_back(v);
        else
            p.values[name] = v;
    }
    std::size_t required = 0;
    for (const auto& pos : positionals_)
        required += pos.required;
    if (p.positionals.size() < required)
        throw UsageError{"missing argument " + positionals_[p.positionals.size()].name};
    if (p.positionals.size() > positionals_.size())
        throw UsageError{"unexpected argument " + p.positionals[positionals_.size()]};
    return p;
}

std::string ArgSpec::Parsed::value(const std::string& name) const
{
    const auto it = values.find(name);
    return it == values.end() ? std::string{} : it->second;
}

std::optional<std::string> ArgSpec::Parsed::optional(const std::string& name) const
{
    const auto it = values.find(name);
    if (it == values.end())
        return std::nullopt;
    return it->second;
}

std::int64_t ArgSpec::Parsed::integer(const std::string& name) const
{
    const std::string v = value(name);
    std::int64_t out = 0;
    const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec == std::errc::result_out_of_range && ptr == v.data() + v.size())
        throw UsageError{"--" + name + ": " + v + " is out of range (" + std::to_string(INT64_MIN) + " to "
                         + std::to_string(INT64_MAX) + ")"};
    if (ec != std::errc{} || ptr != v.data() + v.size())
        throw UsageError{"--" + name + " expects an integer, got '" + v + "'"};
    return out;
}

double ArgSpec::Parsed::number(const std::string& name) const
{
    const std::string v = value(name);
    double out = 0;
    // from_chars: no locale, no hexadecimal, and an out-of-range value is reported, not thrown.
    const char* begin = v.data() + (v.starts_with('+') ? 1 : 0);
    const auto [ptr, ec] = std::from_chars(begin, v.data() + v.size(), out);
    if (ec == std::errc::result_out_of_range && ptr == v.data() + v.size())
        throw UsageError{"--" + name + ": " + v + " is out of range for a 64-bit floating-point number"};
    if (ec != std::errc{} || ptr != v.data() + v.size() || v.empty())
        throw UsageError{"--" + name + " expects a number, got '" + v + "'"};
    // No option means infinity or "not a number"; from_chars reads "inf" and "nan".
    if (!std::isfinite(out))
        throw UsageError{"--" + name + ": " + v + " is not a finite number"};
    return out;
}

} // namespace blocklens::cli
