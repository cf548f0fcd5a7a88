#include "usecases/cut_marker_training.hpp"

#include "engine/cut_marker_scorer.hpp"
#include "learn/examples.hpp"
#include "util/error.hpp"

#include <chrono>

namespace blocklens::learn {

CutMarkerRunResult runCutMarkerTraining(const CutMarkerRunOptions& o, const std::filesystem::path& outDir,
                                        const StageProgress& stages, const std::function<void(const CutMarkerLogEntry&)>& onLog)
{
    auto stage = [&](const std::string& name) { return stages ? stages(name) : Progress{}; };
    if (!(o.split > 0.0 && o.split <= 1.0))
        throw Error("the training split must be in (0, 1], got " + std::to_string(o.split));
    const int level = o.train.level;
    CutMarkerRunResult r;
    {
        const Dataset ds = loadDataset(o.data, {}, stage("loading " + o.data.filename().string()));
        r.train.path = r.heldOut.path = ds.path;
        for (const Document& doc : ds.documents) {
            if (!hasLevel(doc, level))
                continue;
            (inTrainingSplit(doc.meta(), o.split, o.seed) ? r.train : r.heldOut).documents.push_back(doc);
        }
    }
    for (const auto& extra : o.extraData) {
        Dataset ds = loadDataset(extra, {}, stage("loading " + extra.filename().string()));
        for (Document& doc : ds.documents)
            if (hasLevel(doc, level))
                r.train.documents.push_back(std::move(doc));
    }
    if (r.train.documents.empty())
        throw Error("no training documents with reference boundaries of level <= " + std::to_string(level),
                    {.file = o.data.string()});
    r.training = trainCutMarkerModel(r.train, o.train, outDir, onLog, stage("training"));
    if (o.evaluate && !r.heldOut.documents.empty()) {
        const auto t0 = std::chrono::steady_clock::now();
        engine::CutMarkerOptions co;
        co.windowTokens = 0; // the checkpoint's window
        const auto scorer = engine::loadCutMarkerScorer(outDir, {}, co);
        r.onHeldOut = compareWithBaseline(r.heldOut, engine::cutMarkerSegmenter(scorer), level, "cut-markers", "held-out documents", stages);
        r.evaluationSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    return r;
}

} // namespace blocklens::learn
