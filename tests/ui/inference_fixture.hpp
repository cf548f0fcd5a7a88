#pragma once
// A small random checkpoint with a real tokenizer (Llama 2's 32000-token tokenizer.json from the
// fixtures) written into a temporary directory, for the desktop app's inference tests.
#include "document/document.hpp"
#include "engine/make_model.hpp"
#include "engine/metrics.hpp"
#include "engine/model_bundle.hpp"
#include "engine/repair_sweep.hpp"
#include "engine/runner.hpp"
#include "segment/token_blocks.hpp"
#include "support/temp_files.hpp"
#include "tokenizer/tokenizer.hpp"
#include "usecases/comparison.hpp"

#include <QTemporaryDir>

#include <filesystem>

namespace blocklens::test {

// `maxPositions`: the trained context its config.json states (0: the default, 131,072).
inline std::filesystem::path makeTestModel(const QTemporaryDir& dir, const std::string& name = "tiny-llama", std::uint64_t seed = 7,
                                           std::int64_t maxPositions = 0)
{
    engine::MakeModelOptions o;
    // 2 layers, GQA (4 query heads over 2 KV heads), vocabulary of the tokenizer.
    o.config = engine::defaultConfig(engine::Architecture::Llama, 2, 64, 4, 2, 32000, 128, 16);
    o.config.tieWordEmbeddings = true;
    o.config.eosTokenId.reset(); // generations always run to their full length
    if (maxPositions > 0)
        o.config.maxPositions = maxPositions;
    o.seed = seed;
    o.tokenizer = fixturesDir() / "tokenizers" / "llama2" / "tokenizer.json";
    const auto out = std::filesystem::path(dir.path().toStdString()) / name;
    engine::makeModel(o, out);
    return out;
}

// A document of a few hundred tokens with paragraphs to cut at.
inline std::string testDocumentText()
{
    return "Block attention splits a long input into blocks.\n\n"
           "Each block is encoded on its own, so its keys and values can be cached and reused "
           "whenever the same passage appears again, in any position.\n\n"
           "The last block is the query. It attends to every block before it, which is what lets "
           "the model answer questions about the whole input.\n\n"
           "Where the cuts fall matters: a cut through the middle of an argument hides one half "
           "from the other, and the model's answers drift from those of full attention.\n";
}

// A side-by-side comparison computed by core alone (usecases/comparison.hpp, what the app should
// show): the document cut at `cuts` (code points), the query appended as the last block, full and
// block-cached runs with `maxNew` generated tokens, and the texts they generate.
struct DirectComparison {
    std::vector<std::int32_t> ids;
    std::vector<std::int64_t> blocks;
    engine::RunResult full, block;
    engine::ModeComparison cmp;
    std::string fullText, blockText;
};

inline DirectComparison runDirectComparison(const std::filesystem::path& modelDir, const Document& doc, const std::vector<std::size_t>& cuts,
                                            const std::string& query, std::int64_t maxNew)
{
    const engine::ModelBundle bundle =
        engine::loadModelBundle(engine::readModelFiles(modelDir, std::nullopt, engine::TokenizerNeed::Required));
    const Tokenizer& tok = *bundle.tokenizer;
    const usecases::DocumentTokens tokens(tok, doc);
    const usecases::ComparisonInput input = usecases::comparisonInput(tokens, segment::tokenBlockStarts(tokens.grid(), cuts), tok, query);
    const engine::Runner runner(bundle.model);
    usecases::ComparisonOptions options;
    options.maxNewTokens = maxNew;
    options.tokenizerHash = tok.contentHash();
    const usecases::ComparisonReport report = usecases::runComparison(runner, input, options);
    DirectComparison d;
    d.ids = input.ids;
    d.blocks = input.blocks;
    d.full = report.reference;
    d.block = report.compared;
    d.cmp = report.comparison;
    d.fullText = tok.decode(d.full.generated, true);
    d.blockText = tok.decode(d.block.generated, true);
    return d;
}

// Core's repair sweep of a document cut at `cuts` plus the query, as the repair chart should show
// it: full attention as the reference, then engine::runRepairSweep over
// engine::repairSweepFamily(), no generated tokens, one timed repeat.
inline std::vector<engine::RepairSweepRow> runDirectSweep(const std::filesystem::path& modelDir, const Document& doc,
                                                          const std::vector<std::size_t>& cuts, const std::string& query)
{
    const engine::ModelBundle bundle =
        engine::loadModelBundle(engine::readModelFiles(modelDir, std::nullopt, engine::TokenizerNeed::Required));
    const Tokenizer& tok = *bundle.tokenizer;
    const usecases::DocumentTokens tokens(tok, doc);
    const auto input = usecases::comparisonInput(tokens, segment::tokenBlockStarts(tokens.grid(), cuts), tok, query);
    const engine::Runner runner(bundle.model);
    usecases::ComparisonOptions options;
    options.maxNewTokens = 0;
    options.tokenizerHash = tok.contentHash();
    const engine::RunRequest base = usecases::comparisonRequest(input, options);
    engine::RunRequest full = base;
    full.mode = engine::AttentionMode::Full;
    const engine::RunResult reference = runner.run(full);
    return engine::runRepairSweep(runner, base, reference, engine::repairSweepFamily(), engine::TimingProtocol{.warmUps = 0, .repeats = 1});
}

} // namespace blocklens::test
