#include "engine/cut_marker_scorer.hpp"

#include "document/document.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace blocklens::engine {

std::string cutMarker(std::size_t j) { return "<cut " + std::to_string(j) + ">"; }

std::string insertCutMarkers(std::string_view text, std::span<const std::size_t> cutBytes)
{
    std::string out = cutMarker(0);
    std::size_t from = 0, j = 1;
    for (std::size_t cut : cutBytes) {
        if (cut <= from || cut >= text.size())
            throw Error("cut points must be ascending and inside the text (byte " + std::to_string(cut) + ")");
        out.append(text.substr(from, cut - from));
        out += cutMarker(j++);
        from = cut;
    }
    out.append(text.substr(from));
    out += cutMarker(j);
    return out;
}

CutMarkerTokenizer::CutMarkerTokenizer(Tokenizer tokenizer) : tokenizer_(std::move(tokenizer))
{
    for (std::size_t j = 0;; ++j) {
        const auto id = tokenizer_.tokenToId(cutMarker(j));
        if (!id)
            break;
        markerIds_.push_back(*id);
    }
    if (markerIds_.size() < 3)
        throw Error("the tokenizer has no cut-marker tokens <cut 0>, <cut 1>, <cut 2>, ...: not a cut-marker segmenter "
                    "checkpoint (the markers must be added tokens of tokenizer.json)");
}

CutMarkerPass CutMarkerTokenizer::mark(std::string_view text, std::span<const std::size_t> cutBytes) const
{
    if (cutBytes.size() + 2 > markerIds_.size())
        throw Error(std::to_string(cutBytes.size()) + " cut points need " + std::to_string(cutBytes.size() + 2)
                    + " markers; the tokenizer has " + std::to_string(markerIds_.size()));
    CutMarkerPass p;
    p.markedText = insertCutMarkers(text, cutBytes);
    p.ids = tokenizer_.encode(p.markedText).ids;
    // Marker j must appear exactly once, in order: find them by id.
    std::size_t next = 0;
    for (std::size_t i = 0; i < p.ids.size(); ++i) {
        const auto it = std::find(markerIds_.begin(), markerIds_.end(), p.ids[i]);
        if (it == markerIds_.end())
            continue;
        const auto j = static_cast<std::size_t>(it - markerIds_.begin());
        if (j != next)
            throw Error("the text itself contains " + cutMarker(j) + " (or the tokenizer split a marker): cannot mark it");
        p.markerPositions.push_back(static_cast<std::int64_t>(i));
        ++next;
    }
    if (p.markerPositions.size() != cutBytes.size() + 2)
        throw Error("expected " + std::to_string(cutBytes.size() + 2) + " markers in the tokenized text, found "
                    + std::to_string(p.markerPositions.size()));
    return p;
}

std::vector<CutMarkerWindow> cutMarkerWindows(const Document& doc, const segment::TokenGrid& grid,
                                              std::span<const std::size_t> offsets, std::size_t markers,
                                              std::size_t windowTokens)
{
    if (markers < 3)
        throw Error("cut-marker windows need at least 3 markers");
    std::vector<CutMarkerWindow> out;
    // Windows: [start, end) in code points; start is 0 or offsets[first]; interior offsets follow.
    const std::size_t maxInterior = markers - 2;
    std::size_t k = 0; // next offset not yet decided
    bool atTextStart = true;
    while (k < offsets.size()) {
        const std::size_t start = atTextStart ? 0 : offsets[k];
        std::size_t e = atTextStart ? k : k + 1; // offsets[firstInterior .. e) are interior
        const std::size_t firstInterior = e;
        const std::size_t startTokens = grid.tokensBefore(start);
        while (e < offsets.size() && e - firstInterior < maxInterior
               && grid.tokensBefore(offsets[e]) - startTokens < windowTokens)
            ++e;
        if (atTextStart && e == firstInterior) { // the first candidate alone exceeds the budget: nothing to decide before it
            atTextStart = false;
            continue;
        }
        CutMarkerWindow w;
        w.begin = start;
        w.end = e < offsets.size() ? offsets[e] : doc.length();
        w.byteBegin = doc.byteOffset(w.begin);
        w.byteEnd = doc.byteOffset(w.end);
        // Marker 0 is offsets[k] when the window starts at a candidate; markers 1.. are the interior cuts.
        w.decided.push_back(atTextStart ? kNoCandidate : offsets[k]);
        for (std::size_t i = firstInterior; i < e; ++i) {
            w.decided.push_back(offsets[i]);
            w.cutBytes.push_back(doc.byteOffset(offsets[i]) - w.byteBegin);
        }
        out.push_back(std::move(w));
        k = e;
        atTextStart = false;
    }
    return out;
}

CutMarkerScorer::CutMarkerScorer(std::shared_ptr<const TokenClassifier> model, Tokenizer tokenizer, CutMarkerOptions options)
    : model_(std::move(model)), marking_(std::move(tokenizer)), options_(options)
{
    if (!model_)
        throw Error("the cut-marker scorer needs a token-classification model");
    if (model_->labels() != 2)
        throw Error("the cut-marker segmenter needs a 2-way token-classification head (no cut / cut); this one has "
                    + std::to_string(model_->labels()) + " labels");
    const std::int64_t vocab = model_->model().config().vocabSize;
    for (std::size_t j = 0; j < marking_.markers(); ++j) {
        const std::int32_t id = marking_.markerIds()[j];
        if (id < 0 || id >= vocab)
            throw Error("the tokenizer's " + cutMarker(j) + " has id " + std::to_string(id)
                        + ", outside the model's vocabulary of " + std::to_string(vocab));
    }
    if (options_.windowTokens < 16)
        throw Error("the cut-marker window must hold at least 16 tokens");
}

segment::Params CutMarkerScorer::params() const
{
    return {{"model", model_->model().directory().string()},
            {"markers", std::to_string(marking_.markers())},
            {"window_tokens", std::to_string(options_.windowTokens)}};
}

CutMarkerPass CutMarkerScorer::run(std::string_view text, std::span<const std::size_t> cutBytes) const
{
    CutMarkerPass p = marking_.mark(text, cutBytes);
    p.logits = model_->classify(p.ids);
    const std::size_t m = p.markerPositions.size();
    p.cutProbability.assign(m, 0.0); // the last marker: the card's [1, -inf], P(cut) = 0
    for (std::size_t j = 0; j + 1 < m; ++j) {
        const float* l = p.logits.row(p.markerPositions[j + 1]);
        // softmax([l0, l1])[1] = sigmoid(l1 - l0)
        p.cutProbability[j] = 1.0 / (1.0 + std::exp(static_cast<double>(l[0]) - static_cast<double>(l[1])));
    }
    return p;
}

std::vector<double> CutMarkerScorer::score(const segment::SegmentContext& ctx,
                                           std::span<const segment::Candidate> candidates) const
{
    std::vector<double> out(candidates.size(), 0.0);
    if (candidates.empty())
        return out;
    const Document& doc = ctx.doc;
    const std::string& text = doc.text();
    // Candidates may share an offset (several rules): mark each offset once.
    std::vector<std::size_t> offsets;
    for (const auto& c : candidates)
        offsets.push_back(c.offset);
    std::sort(offsets.begin(), offsets.end());
    offsets.erase(std::unique(offsets.begin(), offsets.end()), offsets.end());
    std::vector<double> probability(offsets.size(), 0.0);
    auto slot = [&](std::size_t offset) {
        return static_cast<std::size_t>(std::lower_bound(offsets.begin(), offsets.end(), offset) - offsets.begin());
    };
    for (const CutMarkerWindow& w : cutMarkerWindows(doc, ctx.grid, offsets, marking_.markers(), options_.windowTokens)) {
        const CutMarkerPass pass = run(std::string_view(text).substr(w.byteBegin, w.byteEnd - w.byteBegin), w.cutBytes);
        for (std::size_t j = 0; j < w.decided.size(); ++j)
            if (w.decided[j] != kNoCandidate)
                probability[slot(w.decided[j])] = pass.cutProbability[j];
    }
    for (std::size_t i = 0; i < candidates.size(); ++i)
        out[i] = probability[slot(candidates[i].offset)];
    return out;
}

segment::SegmenterSpec cutMarkerSpec(std::shared_ptr<const segment::Scorer> scorer)
{
    segment::SegmenterSpec spec;
    spec.name = std::string(kCutMarkerSegmenter);
    spec.summary = "the paper's segmenter form: <cut j> markers at the candidates, a token-classification "
                   "model's P(cut) read at the next marker, threshold + recursion depth";
    spec.rules = kCutMarkerRules;
    spec.scorer = std::move(scorer);
    spec.freeDecoder = segment::DecoderKind::Threshold;
    spec.threshold = 0.5;
    spec.depth = 0;
    spec.targetTokens = 1024;
    return spec;
}

segment::Segmenter cutMarkerSegmenter(std::shared_ptr<const CutMarkerScorer> scorer)
{
    return segment::Segmenter(cutMarkerSpec(std::move(scorer)));
}

std::shared_ptr<const CutMarkerScorer> loadCutMarkerScorer(const std::filesystem::path& directory, const LoadOptions& load,
                                                           CutMarkerOptions options)
{
    const auto tokenizerPath = directory / "tokenizer.json";
    std::error_code ec;
    if (std::filesystem::symlink_status(tokenizerPath, ec).type() == std::filesystem::file_type::not_found)
        throw Error("the cut-marker segmenter needs the checkpoint's tokenizer.json (with the <cut j> tokens)",
                    {.file = tokenizerPath.string()});
    if (options.windowTokens == 0) {
        options.windowTokens = kDefaultCutMarkerWindow;
        const auto infoPath = directory / kCutMarkerInfoFile;
        if (std::filesystem::exists(infoPath, ec)) {
            std::ifstream in(infoPath, std::ios::binary);
            const auto info = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
            if (!info.is_object() || !info.contains("window_tokens") || !info["window_tokens"].is_number_unsigned()
                || info["window_tokens"].get<std::size_t>() < 16)
                throw Error("window_tokens must be a whole number of at least 16", {.file = infoPath.string(), .item = "window_tokens"});
            options.windowTokens = info["window_tokens"].get<std::size_t>();
        }
    }
    auto model = std::make_shared<const TokenClassifier>(TokenClassifier::load(directory, load));
    return std::make_shared<const CutMarkerScorer>(std::move(model), Tokenizer::fromFile(tokenizerPath), options);
}

} // namespace blocklens::engine
