// blocklens-cli encode-corpus: a corpus text file -> token file (uint16) for train-lm.
#include "cli/command.hpp"
#include "cli/progress_printer.hpp"
#include "learn/lm/corpus.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <chrono>
#include <ostream>

namespace blocklens::cli {

Command encodeCorpusCommand()
{
    ArgSpec spec("encode-corpus --tokenizer tokenizer.json --input FILE [--bos TOKEN --eos TOKEN] --out FILE.u16",
                 "Encode a corpus text file (documents separated by U+001E lines) into a token file for train-lm.");
    spec.option("tokenizer", "PATH", "tokenizer.json")
        .option("input", "FILE", "corpus text")
        .option("bos", "TOKEN", "token put before each document", "<|begin_of_text|>")
        .option("eos", "TOKEN", "token put after each document", "<|end_of_text|>")
        .option("threads", "T", "threads (0: all cores)", "0")
        .option("out", "FILE", "token file to write");
    return {"encode-corpus", spec, [](const ArgSpec::Parsed& a, Io& io) {
                for (const char* required : {"tokenizer", "input", "out"})
                    if (!a.has(required))
                        throw UsageError{std::string("--") + required + " is required"};
                const auto t0 = std::chrono::steady_clock::now();
                const Tokenizer tokenizer = Tokenizer::fromFile(a.value("tokenizer"));
                auto idOf = [&](const std::string& name) {
                    const auto id = tokenizer.tokenToId(a.value(name));
                    if (!id)
                        throw Error("--" + name + " token '" + a.value(name) + "' is not in the tokenizer",
                                    {.file = a.value("tokenizer")});
                    return *id;
                };
                const std::int32_t bos = idOf("bos"), eos = idOf("eos");
                const std::string text = lm::readFile(a.value("input"));
                const auto docs = lm::splitDocuments(text);
                lm::TokenizeStats stats;
                ProgressPrinter printer(io.err, "documents");
                const auto tokens = lm::tokenizeDocuments(tokenizer, docs, bos, eos,
                                                          static_cast<unsigned>(std::max<std::int64_t>(0, a.integer("threads"))),
                                                          &stats, printer.progress());
                lm::writeTokenFile(a.value("out"), tokens);
                const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                io.out << a.value("out") << ": " << stats.tokens << " tokens from " << stats.documents << " documents, "
                       << stats.bytes << " bytes (" << (stats.tokens ? static_cast<double>(stats.bytes) / stats.tokens : 0)
                       << " bytes/token), " << s << " s\n";
                return 0;
            }};
}

} // namespace blocklens::cli
