#include "learn/learned_scorer.hpp"

#include "learn/resource_paths.hpp"
#include "util/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace blocklens::learn {

namespace fs = std::filesystem;

namespace {

std::string formatScore(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

} // namespace

LearnedScorer::LearnedScorer(std::shared_ptr<const BoundaryModel> model, std::string source,
                             std::shared_ptr<const LmStateSource> lm)
    : model_(std::move(model)), source_(std::move(source)), lm_(std::move(lm))
{
    if (!model_)
        throw Error("the learned scorer needs a model");
}

std::shared_ptr<LearnedScorer> LearnedScorer::lazy(fs::path path)
{
    std::shared_ptr<LearnedScorer> s(new LearnedScorer());
    s->path_ = std::move(path);
    return s;
}

std::shared_ptr<const BoundaryModel> LearnedScorer::model() const
{
    std::lock_guard lock(mutex_);
    if (!model_) {
        if (path_.empty()) {
            std::string source;
            model_ = std::make_shared<const BoundaryModel>(loadDefaultModel(&source));
            source_ = source;
        } else {
            model_ = std::make_shared<const BoundaryModel>(BoundaryModel::load(path_));
            source_ = path_.string();
        }
    }
    return model_;
}

segment::Params LearnedScorer::params() const
{
    std::shared_ptr<const BoundaryModel> m;
    std::string source;
    {
        std::lock_guard lock(mutex_);
        m = model_;
        source = source_;
    }
    segment::Params p;
    if (!m) {
        // Not loaded yet: say where it will come from, without reading it.
        if (!path_.empty())
            p.emplace_back("model", path_.string());
        else if (const auto found = findDefaultModel())
            p.emplace_back("model", found->string());
        else
            p.emplace_back("model", "(not found: " + std::string(kModelFileName) + ", see BLOCKLENS_LEARNED_MODEL)");
        return p;
    }
    p.emplace_back("model", source.empty() ? "(in memory)" : source);
    std::size_t hidden = 0;
    for (std::size_t l = 0; l + 1 < m->layers.size(); ++l)
        hidden += m->layers[l].out;
    p.emplace_back("features", std::to_string(m->features.size()));
    p.emplace_back("hidden", std::to_string(hidden));
    p.emplace_back("parameters", std::to_string(m->parameterCount()));
    p.emplace_back("score_offset", formatScore(m->scoreOffset));
    if (m->usesLanguageModel())
        p.emplace_back("language_model", lm_ ? lm_->describe() : "(none loaded)");
    return p;
}

std::vector<double> LearnedScorer::score(const segment::SegmentContext& ctx,
                                         std::span<const segment::Candidate> candidates) const
{
    const auto m = model();
    if (candidates.empty())
        return {};
    if (!m->usesLanguageModel())
        return m->scores(computeFeatures(ctx, candidates));
    if (!lm_)
        throw Error("this learned segmenter model was trained with language-model features: it needs the language "
                    "model it was trained with (" + m->training.value("language_model", std::string("see its training info"))
                    + ")");
    return m->scores(computeFeatures(ctx, candidates, lm_->states(ctx.doc)));
}

std::vector<fs::path> defaultModelSearchPath()
{
    return resourceSearchPath(fs::path("segmenters") / kModelFileName);
}

namespace {

std::optional<fs::path> fromEnvironment()
{
    const char* env = std::getenv(kModelEnvVar);
    if (!env || !*env)
        return std::nullopt;
    fs::path p(env);
    std::error_code ec;
    if (fs::is_directory(p, ec))
        p /= kModelFileName;
    return p;
}

} // namespace

std::optional<fs::path> findDefaultModel()
{
    if (auto env = fromEnvironment())
        return env;
    std::error_code ec;
    for (const auto& p : defaultModelSearchPath())
        if (fs::is_regular_file(p, ec))
            return p;
    return std::nullopt;
}

BoundaryModel loadDefaultModel(std::string* source)
{
    if (auto env = fromEnvironment()) {
        std::error_code ec;
        if (!fs::exists(*env, ec))
            throw Error(std::string("the learned segmenter's model file named by ") + kModelEnvVar + " does not exist",
                        {.file = env->string()});
        if (source)
            *source = env->string();
        return BoundaryModel::load(*env);
    }
    if (auto found = findDefaultModel()) {
        if (source)
            *source = found->string();
        return BoundaryModel::load(*found);
    }
    std::string looked;
    for (const auto& p : defaultModelSearchPath())
        looked += "\n  " + p.string();
    throw Error("the learned segmenter has no model: " + std::string(kModelFileName) + " was not found in any of:" + looked
                + "\nTrain one with 'blocklens-cli train-segmenter --data DATASET.jsonl --out DIR' and set "
                + kModelEnvVar + "=DIR/" + std::string(kModelFileName) + ", or reinstall resources/segmenters/");
}

segment::SegmenterSpec learnedSpec(std::shared_ptr<const segment::Scorer> scorer)
{
    using segment::Rule;
    segment::SegmenterSpec spec;
    spec.name = std::string(kLearnedSegmenter);
    spec.summary = "a small network over structural, lexical-cohesion and style-shift features, trained on "
                   "labelled documents (blocklens-cli train-segmenter)";
    spec.rules = Rule::Line | Rule::Heading | Rule::Code;
    spec.scorer = std::move(scorer);
    spec.freeDecoder = segment::DecoderKind::Threshold;
    spec.threshold = 0.5;
    spec.depth = 2;
    spec.targetTokens = 1024;
    return spec;
}

segment::Segmenter learnedSegmenter(std::shared_ptr<const BoundaryModel> model, std::string source,
                                    std::shared_ptr<const LmStateSource> lm)
{
    return segment::Segmenter(
        learnedSpec(std::make_shared<LearnedScorer>(std::move(model), std::move(source), std::move(lm))));
}

segment::SegmenterSpec builtinLearnedSpec() { return learnedSpec(LearnedScorer::lazy()); }

} // namespace blocklens::learn
