// blocklens-cli segmenters: the built-in segmenters and their default parameters.
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "usecases/segmenters.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace blocklens::cli {

Command segmentersCommand()
{
    ArgSpec spec("segmenters [--json]", "List the segmenters with their candidates, scorer, decoder and parameters.");
    spec.flag("json", "print JSON");
    return {"segmenters", spec, [](const ArgSpec::Parsed& a, Io& io) {
                using nlohmann::ordered_json;
                if (a.flag("json")) {
                    ordered_json all = ordered_json::array();
                    for (const auto& s : segment::builtinSegmenters()) {
                        ordered_json j;
                        j["name"] = s.name();
                        j["summary"] = s.spec().summary;
                        j["default"] = s.name() == segment::kDefaultSegmenter;
                        ordered_json params = ordered_json::object();
                        for (const auto& p : s.parameters())
                            params[p.name] = p.value;
                        j["parameters"] = params;
                        all.push_back(j);
                    }
                    io.out << jsonText(all) << "\n";
                    return 0;
                }
                for (const auto& s : segment::builtinSegmenters()) {
                    io.out << s.name() << (s.name() == segment::kDefaultSegmenter ? " (default)" : "") << ": "
                           << s.spec().summary << "\n";
                    for (const auto& p : s.parameters()) {
                        io.out << "    " << p.name << std::string(p.name.size() < 26 ? 26 - p.name.size() : 1, ' ')
                               << p.value;
                        if (!p.help.empty())
                            io.out << "  (" << p.help << ")";
                        io.out << "\n";
                    }
                }
                io.out << "\nSizes are in tokens of --tokenizer, or in " << segment::kApproxTokenUnit
                       << " (word and punctuation pieces) without one.\n";
                return 0;
            }};
}

} // namespace blocklens::cli
