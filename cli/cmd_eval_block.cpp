// blocklens-cli eval-block: how far block attention moves a model from its full attention, and
// its full-attention perplexity, on held-out documents (usecases/block_distillation.hpp).
#include "cli/block_data_args.hpp"
#include "cli/command.hpp"
#include "cli/json_output.hpp"
#include "cli/progress_printer.hpp"
#include "cli/segment_args.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ostream>

namespace blocklens::cli {

Command evalBlockCommand()
{
    ArgSpec spec("eval-block --model DIR [--baseline DIR ...] --data (DATASET.jsonl | CORPUS) [--segmenter NAME --window T --json --db PATH]",
                 "On held-out documents: mean KL(full || block) and top-1 agreement on each window's last block, and "
                 "full-attention perplexity, for each model.");
    spec.option("model", "DIR", "the model to evaluate")
        .option("baseline", "DIR", "also evaluate this model (e.g. the one --model was trained from); comma-separated for several")
        .option("device", "DEV", "cpu, cuda or cuda:N", "cpu");
    addBlockDataOptions(spec);
    addRecordOption(spec);
    spec.flag("json", "print the table as JSON");
    return {"eval-block", spec, [](const ArgSpec::Parsed& a, Io& io) {
                if (!a.has("model"))
                    throw UsageError{"--model is required"};
                std::vector<std::filesystem::path> models;
                if (a.has("baseline")) {
                    std::string list = a.value("baseline");
                    for (std::size_t p = 0; p <= list.size();) {
                        const std::size_t c = std::min(list.find(',', p), list.size());
                        if (c > p)
                            models.emplace_back(list.substr(p, c - p));
                        p = c + 1;
                    }
                }
                models.emplace_back(a.value("model"));
                const auto data = readBlockDataOptions(a);
                const auto db = recordPath(a);
                ProgressPrinter printer(io.err, "eval-block");
                const auto report = usecases::evaluateBlockAttention(models, data, a.value("device"), printer.progress());
                if (db) {
                    auto store = store::Store::open(*db);
                    usecases::recordBlockEval(store, report, data, a.value("device"));
                }
                if (a.flag("json")) {
                    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
                    for (const auto& r : report.rows)
                        rows.push_back({{"model", r.model.string()},
                                        {"kl_full_block", r.meanKl},
                                        {"top1_agreement", r.top1Agreement},
                                        {"full_perplexity", r.perplexity},
                                        {"last_block_tokens", r.lastBlockTokens},
                                        {"predicted_tokens", r.predictedTokens}});
                    io.out << jsonText(nlohmann::ordered_json{{"data", data.data.string()},
                                                              {"segmenter", report.segmenter},
                                                              {"window_tokens", data.windows.tokens},
                                                              {"documents", report.documents},
                                                              {"windows", report.windows},
                                                              {"models", rows}})
                           << "\n";
                    return 0;
                }
                io.out << report.windows << " windows of " << data.windows.tokens << " tokens from " << report.documents
                       << " documents, segmenter " << report.segmenter << "; KL and top-1 on each window's last block\n";
                char line[400];
                std::snprintf(line, sizeof line, "%-40s %14s %8s %14s\n", "model", "KL(full||block)", "top-1", "perplexity(full)");
                io.out << line;
                for (const auto& r : report.rows) {
                    std::snprintf(line, sizeof line, "%-40s %14.5f %8.4f %14.3f\n", r.model.string().c_str(), r.meanKl, r.top1Agreement,
                                  r.perplexity);
                    io.out << line;
                }
                return 0;
            }};
}

} // namespace blocklens::cli
