// blocklens-cli cut-markers: the paper's segmenter form (engine/cut_marker_scorer.hpp) with a
// token-classification checkpoint. Two uses:
//   --cuts-after PATTERN  the model card's procedure exactly: a marker after every match of the
//                         separator PATTERN, one model pass, the logits at the markers (--logits-out,
//                         float32 [markers, labels]) and P(cut) per marker; what the comparison with
//                         transformers checks (tools/reference/make_cut_marker_goldens.py);
//   otherwise             the `cut-markers` segmenter over the document (candidates at line starts,
//                         --regex adds match starts; windows; threshold + depth decoder): the blocks.
#include "cli/command.hpp"
#include "cli/engine_args.hpp"
#include "cli/input.hpp"
#include "engine/cut_marker_scorer.hpp"
#include "engine/npy.hpp"
#include "segment/candidates.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <ostream>

namespace blocklens::cli {

Command cutMarkersCommand()
{
    ArgSpec spec("cut-markers --model DIR --input FILE [--cuts-after PATTERN --logits-out FILE.npy] [--regex P] "
                 "[--threshold T] [--depth D] [--window-tokens N] [--device cpu|cuda] [--dtype f32|bf16] [--json]",
                 "The paper's segmenter form: <cut j> markers, a token-classification model, P(cut) at the next marker.");
    spec.option("model", "DIR", "token-classification checkpoint (2-way score head) with a tokenizer.json holding <cut 0>, <cut 1>, ...")
        .option("input", "FILE", "text, Markdown or code file")
        .option("cuts-after", "PATTERN", "the model card's form: a marker after each match of this separator regex, one pass")
        .option("logits-out", "FILE", "with --cuts-after: float32 .npy [markers, labels], the logits at each marker")
        .option("regex", "P", "segmenter: also a candidate at each match start of this pattern")
        .option("threshold", "T", "segmenter: cut where P(cut) >= T", "0.5")
        .option("depth", "D", "segmenter: recursion depth (split blocks still over the size limit at their likeliest cut)", "0")
        .option("window-tokens", "N", "segmenter: tokens per model pass (approximate; default: the checkpoint's "
                                      "cut_markers.json, else 8192)")
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing");
    addDeviceOptions(spec).flag("json", "print the result as JSON");
    return {"cut-markers", spec, [](const ArgSpec::Parsed& a, Io& io) {
                for (const char* required : {"model", "input"})
                    if (!a.has(required))
                        throw UsageError{std::string("--") + required + " is required"};
                if (a.has("logits-out") && !a.has("cuts-after"))
                    throw UsageError{"--logits-out goes with --cuts-after"};
                const std::int64_t windowTokens = a.has("window-tokens") ? a.integer("window-tokens") : 0;
                if (a.has("window-tokens") && windowTokens < 16)
                    throw UsageError{"--window-tokens must be at least 16"};
                const Document doc = loadInputDocument(a.value("input"), {a.flag("replace-invalid")}, io.err);
                engine::CutMarkerOptions options;
                options.windowTokens = static_cast<std::size_t>(windowTokens);
                using clock = std::chrono::steady_clock;
                const auto t0 = clock::now();
                const auto scorer = engine::loadCutMarkerScorer(a.value("model"), readLoadOptions(a, std::max<std::int64_t>(windowTokens, 8192)), options);
                const auto t1 = clock::now();
                nlohmann::ordered_json j;
                j["model"] = a.value("model");
                j["markers_in_tokenizer"] = scorer->markers();
                j["load_ms"] = std::chrono::duration<double, std::milli>(t1 - t0).count();

                if (a.has("cuts-after")) {
                    // The card's insert_marker: a cut at every match end strictly inside the text.
                    std::vector<std::size_t> cutBytes;
                    std::vector<std::size_t> cuts;
                    for (const auto& [begin, end] : segment::regexMatchSpans(doc, a.value("cuts-after")))
                        if (end > 0 && end < doc.length() && (cuts.empty() || end > cuts.back())) {
                            cuts.push_back(end);
                            cutBytes.push_back(doc.byteOffset(end));
                        }
                    const engine::CutMarkerPass pass = scorer->run(doc.text(), cutBytes);
                    const auto t2 = clock::now();
                    const std::int64_t m = static_cast<std::int64_t>(pass.markerPositions.size()), labels = pass.logits.labels;
                    std::vector<float> atMarkers;
                    for (std::int64_t p : pass.markerPositions)
                        atMarkers.insert(atMarkers.end(), pass.logits.row(p), pass.logits.row(p) + labels);
                    if (a.has("logits-out")) {
                        const std::vector<std::int64_t> shape = {m, labels};
                        engine::writeNpy(a.value("logits-out"), atMarkers, shape);
                    }
                    j["cuts"] = cuts;
                    j["ids"] = pass.ids;
                    j["marker_positions"] = pass.markerPositions;
                    j["cut_probability"] = pass.cutProbability;
                    j["pass_ms"] = std::chrono::duration<double, std::milli>(t2 - t1).count();
                    if (a.flag("json")) {
                        io.out << j.dump(1) << "\n";
                        return 0;
                    }
                    io.out << m << " markers in " << pass.ids.size() << " tokens; P(cut) per cut point:\n";
                    for (std::size_t i = 0; i < cuts.size(); ++i)
                        io.out << "  " << cuts[i] << "\t" << pass.cutProbability[i + 1] << "\n";
                    return 0;
                }

                const segment::Segmenter seg = engine::cutMarkerSegmenter(scorer);
                segment::SegmentOptions so;
                so.granularity = segment::Granularity::thresholdDepth(a.number("threshold"), static_cast<int>(a.integer("depth")));
                if (a.has("regex"))
                    so.regex = a.value("regex");
                const segment::TokenGrid grid = segment::TokenGrid::approximate(doc);
                const segment::Segmentation s = seg.segment(doc, grid, so);
                const auto t2 = clock::now();
                j["segment_ms"] = std::chrono::duration<double, std::milli>(t2 - t1).count();
                j["boundaries"] = s.boundaries();
                j["blocks"] = s.blocks.size();
                if (a.flag("json")) {
                    io.out << j.dump(1) << "\n";
                    return 0;
                }
                io.out << s.blocks.size() << " blocks (threshold " << a.value("threshold") << ", depth " << a.value("depth")
                       << "); boundaries:";
                for (std::size_t b : s.boundaries())
                    io.out << " " << b;
                io.out << "\n";
                return 0;
            }};
}

} // namespace blocklens::cli
