#include "usecases/block_distillation.hpp"

#include "document/dataset.hpp"
#include "engine/metrics.hpp"
#include "engine/model_bundle.hpp"
#include "engine/run_record.hpp"
#include "engine/runner.hpp"
#include "engine/safetensors.hpp"
#include "learn/lm/corpus.hpp"
#include "store/store.hpp"
#include "usecases/segmenters.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>

namespace blocklens::usecases {
namespace {

namespace fs = std::filesystem;

bool isDataset(const fs::path& p)
{
    const auto ext = p.extension().string();
    return ext == ".jsonl" || ext == ".ndjson";
}

std::vector<Document> readDocuments(const BlockDataOptions& o)
{
    std::vector<Document> docs;
    std::int64_t records = 0;
    auto take = [&](Document d) {
        ++records;
        if (d.text().find_first_not_of(" \t\r\n") == std::string::npos)
            return;
        if (o.maxDocuments <= 0 || static_cast<std::int64_t>(docs.size()) < o.maxDocuments)
            docs.push_back(std::move(d));
    };
    if (isDataset(o.data)) {
        for (auto& d : loadDataset(o.data).documents)
            take(std::move(d));
    } else {
        const std::string text = lm::readFile(o.data);
        for (const auto doc : lm::splitDocuments(text))
            take(Document(std::string(doc)));
    }
    if (docs.empty())
        throw Error("none of its " + std::to_string(records) + " documents has any text", {.file = o.data.string()});
    return docs;
}

std::int32_t bosOf(const engine::ModelConfig& config, const Tokenizer& tokenizer, const fs::path& dir)
{
    if (config.bosTokenId)
        return static_cast<std::int32_t>(*config.bosTokenId);
    if (const auto id = tokenizer.tokenToId("<|begin_of_text|>"))
        return *id;
    throw Error("the model has no bos_token_id and its tokenizer no <|begin_of_text|>: windows start with BOS",
                {.file = (dir / "config.json").string()});
}

} // namespace

BlockWindows blockWindowsFor(const fs::path& modelDir, const BlockDataOptions& o, const Progress& progress)
{
    const auto files = engine::readModelFiles(modelDir, std::nullopt, engine::TokenizerNeed::Required);
    const Tokenizer& tokenizer = *files.tokenizer;
    const std::int32_t bos = bosOf(files.config, tokenizer, modelDir);
    const segment::Segmenter& segmenter = segment::findSegmenter(o.segmenter);
    const auto docs = readDocuments(o);
    BlockWindows out;
    out.documents = static_cast<std::int64_t>(docs.size());
    out.tokenizerHash = tokenizer.contentHash();
    for (std::size_t i = 0; i < docs.size(); ++i) {
        if (progress.stopRequested())
            throw Error("cancelled");
        auto w = lm::blockWindows(docs[i], static_cast<std::int64_t>(i), tokenizer, bos, segmenter, o.segmentOptions, o.windows);
        for (auto& x : w)
            out.windows.push_back(std::move(x));
        progress(static_cast<std::int64_t>(i + 1), out.documents, "documents");
    }
    if (out.windows.empty())
        throw Error("no document is as long as one window of " + std::to_string(o.windows.tokens) + " tokens", {.file = o.data.string()});
    for (const auto& w : out.windows)
        out.multiBlock += w.blockStarts.size() >= 3 ? 1 : 0;
    if (out.multiBlock == 0)
        throw Error("segmenter '" + o.segmenter + "' puts every one of the " + std::to_string(out.windows.size()) +
                    " windows in fewer than three blocks: block attention equals full attention there (choose a finer granularity)");
    return out;
}

BlockTrainingReport runBlockTraining(const BlockTrainingRequest& r, const std::function<void(const lm::BlockLogEntry&)>& onLog,
                                     const Progress& progress)
{
    // The model directory must hold weights before minutes go into tokenizing and segmenting.
    (void)engine::CheckpointFiles::open(r.model);
    const fs::path teacher = r.teacher.value_or(r.model);
    if (r.teacher)
        (void)engine::CheckpointFiles::open(teacher);
    if (r.train.timeBudgetS && !(*r.train.timeBudgetS > 0))
        throw Error("the time budget must be more than 0 seconds");
    const auto t0 = std::chrono::steady_clock::now();
    const auto windows = blockWindowsFor(r.model, r.data, progress);
    BlockTrainingReport report;
    report.documents = windows.documents;
    report.windows = static_cast<std::int64_t>(windows.windows.size());
    report.prepareSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto files = engine::readModelFiles(r.model, std::nullopt, engine::TokenizerNeed::Required);
    report.result = lm::trainBlock(windows.windows, r.model, teacher, r.train, r.out, files.tokenizerFile, onLog, progress);
    return report;
}

BlockEvalReport evaluateBlockAttention(const std::vector<fs::path>& models, const BlockDataOptions& data, const std::string& device,
                                       const Progress& progress)
{
    if (models.empty())
        throw Error("no model to evaluate");
    BlockEvalReport report;
    report.segmenter = data.segmenter;
    const auto windows = blockWindowsFor(models.front(), data, progress);
    report.documents = windows.documents;
    report.windows = windows.multiBlock;
    std::int64_t done = 0;
    const std::int64_t total = windows.multiBlock * static_cast<std::int64_t>(models.size());
    for (const auto& dir : models) {
        auto files = engine::readModelFiles(dir, std::nullopt, engine::TokenizerNeed::Required);
        if (files.tokenizer->contentHash() != windows.tokenizerHash)
            throw Error("its tokenizer differs from " + (models.front() / "tokenizer.json").string() +
                            "'s: the models are compared on the same tokens",
                        {.file = files.tokenizerFile.string()});
        const auto T = static_cast<std::int64_t>(windows.windows.front().ids.size()) - 1;
        const engine::Runner runner(engine::Model::load(dir, {.device = device, .maxTokens = T, .logitRows = T}));
        BlockEvalRow row;
        row.model = dir;
        row.modelName = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
        double klSum = 0, agree = 0, nllSum = 0;
        for (const auto& w : windows.windows) {
            if (w.blockStarts.size() < 3)
                continue;
            if (progress.stopRequested())
                throw Error("cancelled");
            engine::RunRequest req;
            req.ids.assign(w.ids.begin(), w.ids.end() - 1);
            req.blocks = w.blockStarts;
            req.mode = engine::AttentionMode::Full;
            req.logits = engine::LogitsWanted::All;
            const auto full = runner.run(req);
            req.mode = engine::AttentionMode::Block;
            req.logits = engine::LogitsWanted::LastBlock;
            const auto block = runner.run(req);
            const auto cmp = engine::compareRuns(full, block, req.ids, w.blockStarts.back());
            const auto rows = static_cast<std::int64_t>(cmp.kl.size());
            klSum += cmp.meanKl * static_cast<double>(rows);
            agree += cmp.top1Agreement * static_cast<double>(rows);
            row.lastBlockTokens += rows;
            for (std::int64_t i = 0; i < T; ++i) { // row i predicts ids[i + 1]
                const auto lp = engine::logSoftmax({full.logits.row(i), static_cast<std::size_t>(full.logits.vocab)});
                nllSum -= lp[static_cast<std::size_t>(w.ids[static_cast<std::size_t>(i + 1)])];
            }
            row.predictedTokens += T;
            progress(++done, total, "windows");
        }
        row.meanKl = klSum / static_cast<double>(std::max<std::int64_t>(1, row.lastBlockTokens));
        row.top1Agreement = agree / static_cast<double>(std::max<std::int64_t>(1, row.lastBlockTokens));
        row.perplexity = std::exp(nllSum / static_cast<double>(std::max<std::int64_t>(1, row.predictedTokens)));
        report.rows.push_back(row);
    }
    return report;
}

void recordBlockEval(store::Store& store, const BlockEvalReport& report, const BlockDataOptions& data, const std::string& device)
{
    for (const auto& row : report.rows) {
        const engine::Model model = engine::Model::load(row.model, {.device = device, .maxTokens = 16});
        engine::RunResult result;
        result.stats.tokens = row.predictedTokens;
        engine::RunContext context;
        context.segmenter = report.segmenter;
        store::RunRecord rec = engine::makeRunRecord(model, engine::AttentionMode::Block, result, context);
        rec.logitKl = row.meanKl;
        rec.top1Agreement = row.top1Agreement;
        rec.ttftMs.reset();
        rec.prefillMs.reset();
        rec.flops.reset();
        rec.divergence = nlohmann::ordered_json{{"evaluation", "eval-block"},
                                                {"compared_on", "last block of each window"},
                                                {"full_perplexity", row.perplexity},
                                                {"last_block_tokens", row.lastBlockTokens},
                                                {"predicted_tokens", row.predictedTokens},
                                                {"windows", report.windows},
                                                {"documents", report.documents},
                                                {"window_tokens", data.windows.tokens},
                                                {"data", data.data.string()}}
                             .dump();
        store.recordRun(rec);
    }
}

} // namespace blocklens::usecases
