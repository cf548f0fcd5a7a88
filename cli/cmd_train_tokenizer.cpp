// blocklens-cli train-tokenizer: a byte-level BPE tokenizer.json from corpus text files.
#include "cli/command.hpp"
#include "cli/progress_printer.hpp"
#include "learn/lm/corpus.hpp"
#include "tokenizer/bpe_trainer.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <chrono>
#include <fstream>
#include <ostream>
#include <sstream>

namespace blocklens::cli {

Command trainTokenizerCommand()
{
    ArgSpec spec("train-tokenizer --input FILE [--input FILE ...] [--vocab N --min-frequency F --special TOKENS "
                 "--max-mb M] --out tokenizer.json",
                 "Train a byte-level BPE tokenizer (GPT-2 pre-tokenizer) and write its tokenizer.json.");
    spec.repeated("input", "FILE", "corpus text (documents separated by a line holding only U+001E)")
        .option("vocab", "N", "vocabulary size, special and byte tokens included", "8192")
        .option("min-frequency", "F", "never merge a pair seen fewer times", "2")
        .option("special", "TOKENS", "comma-separated special tokens; the first is put before every encoding",
                "<|begin_of_text|>,<|end_of_text|>")
        .option("max-mb", "M", "count words in at most the first M MiB of each file (0: all)", "0")
        .option("threads", "T", "threads for counting words (0: all cores)", "0")
        .option("out", "FILE", "tokenizer.json to write");
    return {"train-tokenizer", spec, [](const ArgSpec::Parsed& a, Io& io) {
                const auto inputs = a.lists.count("input") ? a.lists.at("input") : std::vector<std::string>{};
                if (inputs.empty())
                    throw UsageError{"--input is required"};
                if (!a.has("out"))
                    throw UsageError{"--out is required"};
                BpeTrainerOptions o;
                const std::int64_t vocab = a.integer("vocab");
                if (vocab < 1 || vocab > 1 << 20)
                    throw UsageError{"--vocab must be between 1 and 1048576"};
                o.vocabSize = static_cast<std::size_t>(vocab);
                o.minFrequency = std::max<std::int64_t>(1, a.integer("min-frequency"));
                o.specialTokens.clear();
                std::stringstream ss(a.value("special"));
                for (std::string t; std::getline(ss, t, ',');)
                    o.specialTokens.push_back(t);
                const std::int64_t maxMb = a.integer("max-mb");
                const auto threads = static_cast<unsigned>(std::max<std::int64_t>(0, a.integer("threads")));
                const auto t0 = std::chrono::steady_clock::now();
                BpeWordCounts counts;
                std::int64_t bytes = 0;
                for (const auto& path : inputs) {
                    std::string text = lm::readFile(path);
                    if (maxMb > 0 && text.size() > static_cast<std::size_t>(maxMb) << 20)
                        text.resize(static_cast<std::size_t>(maxMb) << 20);
                    for (const auto doc : lm::splitDocuments(text)) {
                        counts.add(doc, threads);
                        bytes += static_cast<std::int64_t>(doc.size());
                    }
                }
                const double countS = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                ProgressPrinter printer(io.err, "merges");
                const BpeTrainResult r = trainByteLevelBpe(counts, o, printer.progress());
                {
                    requireRegularOrNewFile(a.value("out"));
                    std::ofstream out(a.value("out"), std::ios::binary | std::ios::trunc);
                    out << r.json;
                    if (!out)
                        throw Error("cannot write", {.file = a.value("out")});
                }
                // Load what was written with the project's tokenizer: a file it refuses is an error here.
                const Tokenizer check = Tokenizer::fromFile(a.value("out"));
                const double totalS = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                io.out << a.value("out") << ": " << check.describe() << ", " << r.merges << " merges from "
                       << counts.words().size() << " distinct words (" << counts.totalWords() << " words, " << bytes
                       << " bytes); counting " << countS << " s, total " << totalS << " s\n";
                return 0;
            }};
}

} // namespace blocklens::cli
