#pragma once
// A segmenter is one named pipeline: candidate rules -> scorer -> decoder, with defaults for
// every granularity control. The same segmenter answers all controls:
//   TargetTokens  blocks of about N tokens (dynamic program; fixed/recursive: their own packing)
//   Blocks        exactly N blocks (dynamic program with an exact count; fixed: equal sizes)
//   Threshold     the paper's threshold + recursion depth decoder
//   Default       the segmenter's own choice (its "free" protocol behaviour)
// and every one of them keeps the hard maximum block size.
#include "document/document.hpp"
#include "segment/candidates.hpp"
#include "segment/decoders.hpp"
#include "segment/scorer.hpp"
#include "segment/segmentation.hpp"
#include "segment/token_grid.hpp"

#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::segment {

enum class GranularityMode { Default, TargetTokens, Blocks, Threshold };

// The default minimum block size of every segmenter, in tokens (a spec may choose another; none
// chooses 1): a comment line or "namespace x {" alone is no block (issue 15: util.py gave ten
// one-token "#" blocks; issue 20: every segmenter, the learned one and the baselines included).
inline constexpr std::size_t kDefaultMinTokens = 16;

struct Granularity {
    GranularityMode mode = GranularityMode::Default;
    std::size_t targetTokens = 0; // TargetTokens
    std::size_t blocks = 0;       // Blocks
    double threshold = 0;         // Threshold
    int depth = 0;                // Threshold: refinement depth
    std::optional<std::size_t> minTokens, maxTokens; // override the segmenter's limits

    static Granularity target(std::size_t tokens);
    static Granularity exactBlocks(std::size_t n);
    static Granularity thresholdDepth(double threshold, int depth);
};

struct SegmentOptions {
    Granularity granularity;
    std::string regex; // adds Rule::Regex candidates (required by the "regex" segmenter)
};

enum class DecoderKind {
    Threshold, // threshold + depth with the spec's threshold
    Hearst,    // threshold at TextTiling's mean - sd/2 of the scores, then depth
    Dp,        // dynamic program with the spec's target size
    Even,      // fixed-size windows
    Recursive, // recursive separators packed into targetTokens
};

struct SegmenterSpec {
    std::string name;
    std::string summary;
    RuleSet rules = 0;                      // 0: no candidates (fixed-size)
    std::shared_ptr<const Scorer> scorer;   // null: no scores (fixed-size)
    DecoderKind freeDecoder = DecoderKind::Threshold;
    std::size_t targetTokens = 512;         // Default target / chunk size / refinement limit
    double threshold = 0.5;                 // Default threshold
    int depth = 0;                          // Default refinement depth
    std::size_t minTokens = kDefaultMinTokens; // never smaller by choice (explicit block counts excepted)
    std::size_t maxTokens = 4096;           // never larger, whatever is asked
    double sizeWeight = 1.0;                // dynamic program, target mode
    double exactSizeWeight = 0.002;         // dynamic program, exact-count mode: only a tie-breaker
};

struct ParamInfo {
    std::string name, value, help;
};

class Segmenter {
public:
    explicit Segmenter(SegmenterSpec spec) : spec_(std::move(spec)) {}

    const std::string& name() const noexcept { return spec_.name; }
    const SegmenterSpec& spec() const noexcept { return spec_; }
    std::vector<ParamInfo> parameters() const; // defaults, for `segmenters`

    // Throws Error for impossible requests (e.g. a threshold for the fixed-size segmenter, the
    // regex segmenter without a pattern, min > max).
    Segmentation segment(const Document& doc, const TokenGrid& grid, const SegmentOptions& options = {}) const;

    // The candidates and their scores before decoding (for inspection, the UI and tests).
    struct Scored {
        std::vector<Candidate> candidates;
        std::vector<double> scores;
    };
    Scored score(const Document& doc, const TokenGrid& grid, const SegmentOptions& options = {}) const;

private:
    SegmenterSpec spec_;
};

// The built-in segmenters by name (builtinSegmenters, findSegmenter) are in usecases/segmenters.hpp:
// the list includes the learned one, which lives above this module (core/learn).
// The one the CLI uses when none is named: the best non-learned segmenter on the dev set.
inline constexpr std::string_view kDefaultSegmenter = "hybrid";

} // namespace blocklens::segment
