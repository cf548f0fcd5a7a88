#include "learn/cut_marker_builtin.hpp"

#include "engine/cut_marker_scorer.hpp"
#include "learn/resource_paths.hpp"
#include "util/error.hpp"

#include <cstdlib>
#include <memory>
#include <mutex>

namespace blocklens::learn {

namespace fs = std::filesystem;

namespace {

// Longest sequence planned for the memory check: a window of approx-tokens is about as many
// tokenizer tokens plus its markers; the CLI's cut-markers command plans the same.
constexpr std::int64_t kPlannedTokens = 8192;

std::optional<fs::path> fromEnvironment()
{
    const char* env = std::getenv(kCutMarkerModelEnvVar);
    if (!env || !*env)
        return std::nullopt;
    return fs::path(env);
}

bool isCheckpoint(const fs::path& dir)
{
    std::error_code ec;
    return fs::is_regular_file(dir / "config.json", ec);
}

// P(cut) from the default checkpoint, loaded on first use (a scorer of the segmenter catalogue is
// built at start-up, when no model may be read yet).
class LazyCutMarkerScorer final : public segment::Scorer {
public:
    std::string name() const override { return std::string(engine::kCutMarkerSegmenter); }

    segment::Params params() const override
    {
        {
            std::lock_guard lock(mutex_);
            if (scorer_)
                return scorer_->params();
        }
        // Not loaded yet: say where it will come from, without reading it.
        if (const auto found = findDefaultCutMarkerModel())
            return {{"model", found->string()}};
        return {{"model", "(not found: segmenters/" + std::string(kCutMarkerModelDir) + ", see "
                              + kCutMarkerModelEnvVar + ")"}};
    }

    std::vector<double> score(const segment::SegmentContext& ctx, std::span<const segment::Candidate> candidates) const override
    {
        return loaded().score(ctx, candidates);
    }

private:
    const engine::CutMarkerScorer& loaded() const
    {
        std::lock_guard lock(mutex_);
        if (!scorer_) {
            engine::LoadOptions load;
            load.maxTokens = kPlannedTokens;
            engine::CutMarkerOptions options;
            options.windowTokens = 0; // the window it was trained with (its cut_markers.json)
            scorer_ = engine::loadCutMarkerScorer(locate(), load, options);
        }
        return *scorer_;
    }

    static fs::path locate()
    {
        if (auto env = fromEnvironment()) {
            if (!isCheckpoint(*env))
                throw Error(std::string("the cut-marker checkpoint named by ") + kCutMarkerModelEnvVar
                                + " does not exist (a directory with config.json, model.safetensors and tokenizer.json)",
                            {.file = env->string()});
            return *env;
        }
        if (auto found = findDefaultCutMarkerModel())
            return *found;
        std::string looked;
        for (const auto& p : defaultCutMarkerSearchPath())
            looked += "\n  " + p.string();
        throw Error("the cut-markers segmenter has no model: segmenters/" + std::string(kCutMarkerModelDir)
                    + "/config.json was not found in any of:" + looked
                    + "\nTrain one with 'blocklens-cli train-segmenter --form cut-markers --data DATASET.jsonl --out DIR' "
                      "and set " + kCutMarkerModelEnvVar + "=DIR, or reinstall resources/segmenters/");
    }

    mutable std::mutex mutex_;
    mutable std::shared_ptr<const engine::CutMarkerScorer> scorer_;
};

} // namespace

std::vector<fs::path> defaultCutMarkerSearchPath()
{
    return resourceSearchPath(fs::path("segmenters") / kCutMarkerModelDir);
}

std::optional<fs::path> findDefaultCutMarkerModel()
{
    if (auto env = fromEnvironment())
        return env;
    for (const auto& p : defaultCutMarkerSearchPath())
        if (isCheckpoint(p))
            return p;
    return std::nullopt;
}

segment::SegmenterSpec builtinCutMarkerSpec()
{
    segment::SegmenterSpec spec = engine::cutMarkerSpec(std::make_shared<LazyCutMarkerScorer>());
    // Said wherever the segmenter is offered, until a trained checkpoint replaces the placeholder.
    spec.summary += " (the shipped checkpoint is an undertrained placeholder, no better than chance on held-out documents: "
                    "train one with train-segmenter --form cut-markers; resources/segmenters/cut-markers/README.md)";
    return spec;
}

} // namespace blocklens::learn
