#include "usecases/training_run.hpp"

#include "learn/examples.hpp"
#include "learn/learned_scorer.hpp"
#include "store/store.hpp"
#include "usecases/segmenters.hpp"
#include "util/error.hpp"
#include "version.hpp"

#include <cmath>
#include <ctime>
#include <unordered_map>

namespace blocklens::learn {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

std::string utcNow()
{
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json number(double v) { return std::isnan(v) ? json(nullptr) : json(std::round(v * 1e4) / 1e4); }


} // namespace

std::vector<Document> workspaceCorrections(const fs::path& db, std::size_t& rowsSeen)
{
    store::OpenOptions o;
    o.mode = store::OpenMode::ReadOnly;
    store::Store st = store::Store::open(db, o);
    return workspaceCorrections(st, rowsSeen);
}

std::vector<Document> workspaceCorrections(store::Store& st, std::size_t& rowsSeen)
{
    std::vector<Document> out;
    std::unordered_map<std::string, std::size_t> byHash;
    for (const auto& ds : st.listDatasets()) {
        for (const auto& row : st.datasetRows(ds.id)) {
            ++rowsSeen;
            if (row.currentSegmentationId == row.referenceSegmentationId && !row.reviewed)
                continue;
            Document doc = st.loadDocument(row.documentId);
            doc.meta() = row.meta;
            std::vector<Boundary> b = st.boundaries(row.currentSegmentationId);
            if (b.empty())
                continue; // nothing to learn from (and an annotator may still be working on it)
            doc.setReference(std::move(b));
            const auto [it, inserted] = byHash.try_emplace(doc.contentHash(), out.size());
            if (inserted)
                out.push_back(std::move(doc));
            else
                out[it->second] = std::move(doc);
        }
    }
    return out;
}

bool hasLevel(const Document& d, int level)
{
    for (const auto& b : d.reference())
        if (b.level <= level)
            return true;
    return false;
}

SegmenterComparison compareWithBaseline(const Dataset& docs, const segment::Segmenter& learned, int level,
                                        const std::string& learnedName, const std::string& documents, const StageProgress& stages)
{
    segment::EvalOptions eo;
    eo.level = level;
    eo.protocol = segment::Protocol::OracleCount;
    // One stage after the other: a stage's Progress may not outlive the start of the next.
    auto evaluate = [&](const segment::Segmenter& segmenter, const std::string& name) {
        const Progress progress = stages ? stages("evaluating " + name + " on " + documents) : Progress{};
        auto eval = segment::evaluate(docs, segmenter, eo, progress);
        if (progress.stopRequested())
            throw Error("training was stopped");
        return eval;
    };
    SegmenterComparison c;
    c.learned = evaluate(learned, learnedName);
    c.baseline = evaluate(segment::findSegmenter(segment::kDefaultSegmenter), std::string(segment::kDefaultSegmenter));
    return c;
}

TrainingRunResult runTraining(const TrainingRunOptions& o, const StageProgress& stages)
{
    auto stage = [&](const std::string& name) { return stages ? stages(name) : Progress{}; };
    if (!o.data && !o.db && !o.corrections)
        throw Error("nothing to train on: give a dataset and/or a workspace");
    if (!(o.split > 0.0 && o.split <= 1.0))
        throw Error("the training split must be in (0, 1], got " + std::to_string(o.split));
    TrainingRunResult r;

    // What to train on: corrections first, so that a corrected text replaces the dataset's.
    std::vector<Document> fixes;
    if (o.corrections)
        fixes = o.corrections(r.dbRows);
    else if (o.db)
        fixes = workspaceCorrections(*o.db, r.dbRows);
    std::unordered_map<std::string, std::size_t> fixByHash;
    for (std::size_t i = 0; i < fixes.size(); ++i)
        fixByHash.emplace(fixes[i].contentHash(), i);
    if (o.data) {
        DatasetLoadOptions lo;
        lo.replaceInvalidUtf8 = o.replaceInvalid;
        const Dataset ds = loadDataset(*o.data, lo, stage("loading " + o.data->filename().string()));
        r.train.path = r.heldOut.path = ds.path;
        for (const Document& doc : ds.documents) {
            if (fixByHash.count(doc.contentHash())) {
                ++r.replaced; // the corrected version trains instead (below)
                continue;
            }
            if (!hasLevel(doc, o.level)) {
                ++r.skipped;
                continue;
            }
            if (inTrainingSplit(doc.meta(), o.split, o.seed)) {
                r.train.documents.push_back(doc);
                ++r.fromData;
            } else {
                r.heldOut.documents.push_back(doc);
            }
        }
    }
    for (auto& d : fixes)
        if (hasLevel(d, o.level)) {
            r.train.documents.push_back(std::move(d));
            ++r.fromDb;
        }
    if (r.train.documents.empty())
        throw Error("no training documents: the dataset and the workspace have no document with reference boundaries "
                    "of level <= " + std::to_string(o.level) + " in the training split");

    // Examples and training.
    TrainingSet ts;
    {
        const Progress p = stage("computing features");
        for (std::size_t i = 0; i < r.train.documents.size(); ++i) {
            if (p.stopRequested())
                throw Error("training was stopped");
            const auto e = documentExamples(r.train.documents[i], o.level, o.lm.get());
            r.referenceLines += e.referenceLines;
            r.carried += e.carried;
            ts.append(e);
            p(static_cast<std::int64_t>(i + 1), static_cast<std::int64_t>(r.train.documents.size()), "documents");
        }
    }
    r.model = trainModel(ts, o.train, &r.stats, stage("training"));
    const auto shared = std::make_shared<const BoundaryModel>(r.model);
    const auto learned = learnedSegmenter(shared, "(trained now)", o.lm);

    if (o.evaluateTraining)
        r.onTrain = compareWithBaseline(r.train, learned, o.level, "learned", "training documents", stages);
    if (!r.heldOut.documents.empty())
        r.onHeldOut = compareWithBaseline(r.heldOut, learned, o.level, "learned", "held-out documents", stages);

    const TrainOptions& to = o.train;
    json info;
    info["created"] = utcNow();
    info["blocklens"] = kVersion;
    info["data"] = o.data ? o.data->filename().string() : "";
    info["db"] = o.db.has_value() || static_cast<bool>(o.corrections);
    info["split"] = o.split;
    info["seed"] = o.seed;
    info["train_seed"] = to.seed;
    info["level"] = o.level;
    if (o.lm)
        info["language_model"] = o.lmDescription.empty() ? o.lm->describe() : o.lmDescription;
    info["documents"] = {{"train", r.train.documents.size()}, {"from_data", r.fromData}, {"from_db", r.fromDb},
                         {"held_out", r.heldOut.documents.size()}, {"replaced_by_corrections", r.replaced},
                         {"without_boundaries", r.skipped}};
    info["examples"] = {{"candidates", r.stats.rows}, {"positives", r.stats.positives},
                        {"reference_lines", r.referenceLines}, {"carried_by_a_candidate", r.carried}};
    info["options"] = {{"hidden", to.hidden}, {"activation", to.activation}, {"epochs", to.epochs},
                       {"batch", to.batch}, {"learning_rate", to.learningRate},
                       {"weight_decay", to.weightDecay}, {"input_noise", to.inputNoise},
                       {"positive_balance", to.positiveBalance}, {"ranking_weight", to.rankingWeight},
                       {"finer_weight", to.finerWeight},
                       {"documents_per_batch", to.documentsPerBatch}, {"ensemble", to.ensemble},
                       {"left_out", to.excluded}};
    info["train_seconds"] = std::round(r.stats.seconds * 10) / 10;
    info["train_loss"] = number(r.stats.finalLoss);
    if (r.onTrain)
        info["pk_train"] = number(segment::overallPk(r.onTrain->learned));
    if (r.onHeldOut) {
        info["pk_held_out"] = number(segment::overallPk(r.onHeldOut->learned));
        info["pk_held_out_" + std::string(segment::kDefaultSegmenter)] = number(segment::overallPk(r.onHeldOut->baseline));
    }
    r.model.training = info;
    return r;
}

} // namespace blocklens::learn
