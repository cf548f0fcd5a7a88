#include "learn/lm_states.hpp"

#include "document/document.hpp"
#include "engine/model_bundle.hpp"
#include "engine/runner.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cmath>

namespace blocklens::learn {

struct EngineLmSource::State {
    engine::Model model;
    engine::Runner runner;
    Tokenizer tokenizer;
    std::size_t windowTokens = 1024;
};

std::shared_ptr<const EngineLmSource> EngineLmSource::load(const std::filesystem::path& directory,
                                                           const engine::LoadOptions& options, std::size_t windowTokens)
{
    if (windowTokens < 16)
        throw Error("the language-model window must hold at least 16 tokens");
    // The hidden states are aligned with the text through the tokenizer: it is required.
    engine::ModelFiles files = engine::readModelFiles(directory, std::nullopt, engine::TokenizerNeed::Required);
    engine::LoadOptions o = options;
    o.maxTokens = static_cast<std::int64_t>(windowTokens + windowTokens / 4);
    engine::ModelBundle bundle = engine::loadModelBundle(std::move(files), o);
    engine::Model model = std::move(bundle.model);
    Tokenizer tokenizer = std::move(*bundle.tokenizer);
    engine::Runner runner(model);
    auto state = std::make_shared<State>(State{std::move(model), std::move(runner), std::move(tokenizer), windowTokens});
    return std::shared_ptr<const EngineLmSource>(new EngineLmSource(std::move(state)));
}

const engine::Model& EngineLmSource::model() const { return state_->model; }

std::string EngineLmSource::describe() const
{
    return state_->model.directory().string() + " (" + state_->model.fingerprint().substr(0, 12) + ", window "
           + std::to_string(state_->windowTokens) + ")";
}

LmStates EngineLmSource::states(const Document& doc) const
{
    const Encoding enc = state_->tokenizer.encode(doc.text());
    const std::size_t n = enc.ids.size(), W = state_->windowTokens, context = W / 4;
    LmStates out;
    out.tokenBegin.reserve(n);
    for (const auto& span : enc.spans)
        out.tokenBegin.push_back(span.begin);
    for (std::size_t start = 0; start < n; start += W) {
        const std::size_t from = start > context ? start - context : 0, end = std::min(n, start + W);
        engine::RunRequest req;
        req.ids.assign(enc.ids.begin() + static_cast<std::ptrdiff_t>(from), enc.ids.begin() + static_cast<std::ptrdiff_t>(end));
        req.mode = engine::AttentionMode::Full;
        req.logits = engine::LogitsWanted::None;
        req.wantHidden = true;
        const engine::RunResult r = state_->runner.run(req);
        const auto width = static_cast<std::size_t>(r.hidden.width);
        if (out.width == 0) {
            out.width = width;
            out.unit.reserve(n * width);
        }
        if (r.hidden.rows != static_cast<std::int64_t>(end - from) || width != out.width)
            throw Error("the language model returned hidden states of an unexpected shape");
        for (std::size_t t = start - from; t < end - from; ++t) {
            const float* h = r.hidden.values.data() + t * width;
            double sq = 0;
            for (std::size_t k = 0; k < width; ++k)
                sq += static_cast<double>(h[k]) * h[k];
            const float inv = sq > 0 ? static_cast<float>(1.0 / std::sqrt(sq)) : 0.0f;
            for (std::size_t k = 0; k < width; ++k)
                out.unit.push_back(h[k] * inv);
        }
    }
    return out;
}

} // namespace blocklens::learn
