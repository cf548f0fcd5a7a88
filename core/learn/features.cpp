#include "learn/features.hpp"

#include "document/document.hpp"
#include "segment/char_class.hpp"
#include "segment/lexical_windows.hpp"
#include "segment/structural_scorer.hpp"
#include "segment/texttiling_scorer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

namespace blocklens::learn {

using segment::Candidate;
using segment::LineInfo;
using segment::LineShape;
using segment::SegmentContext;
using segment::TextLayout;

namespace {

// X(enumerator, "name"): the feature list, in column order. Append new features at the end of a
// group freely: models are matched by name, so an older model file keeps working.
#define BLOCKLENS_LEARN_FEATURES(X)                                                                    \
    X(Inline, "inline")                                                                                \
    X(Atx, "atx")                                                                                      \
    X(AtxRel, "atx_rel")                                                                               \
    X(AtxTop, "atx_top")                                                                               \
    X(Setext, "setext")                                                                                \
    X(Underline, "underline")                                                                          \
    X(Numbered, "numbered")                                                                            \
    X(NumberingParts, "numbering_parts")                                                               \
    X(NumberedTop, "numbered_top")                                                                     \
    X(AllCaps, "all_caps")                                                                             \
    X(TerminalPunct, "terminal_punct")                                                                 \
    X(EndsColon, "ends_colon")                                                                         \
    X(DefinitionTop, "definition_top")                                                                 \
    X(DefinitionNested, "definition_nested")                                                           \
    X(Attachable, "attachable")                                                                        \
    X(OpensDefinition, "opens_definition")                                                             \
    X(Isolated, "isolated")                                                                            \
    X(Fence, "fence")                                                                                  \
    X(AfterClosingBrace, "after_closing_brace")                                                        \
    X(HeadingStrength, "heading_strength")                                                             \
    X(Structural, "structural")                                                                        \
    X(StructuralMargin, "structural_local_margin")                                                     \
    X(PrevHeading, "prev_heading_strength")                                                            \
    X(Blank1, "blank_before_1")                                                                        \
    X(Blank2, "blank_before_2")                                                                        \
    X(Blank3, "blank_before_3plus")                                                                    \
    X(GapRarity, "gap_rarity")                                                                         \
    X(GapLocal, "gap_local_rel")                                                                       \
    X(BlankAfter, "blank_after")                                                                       \
    X(Indent0, "indent0")                                                                              \
    X(IndentLog, "indent_log")                                                                         \
    X(IndentDelta, "indent_delta")                                                                     \
    X(WidthLog, "width_log")                                                                           \
    X(WidthRel, "width_rel")                                                                           \
    X(PrevWidthRel, "prev_width_rel")                                                                  \
    X(PrevSentenceEnd, "prev_ends_sentence")                                                           \
    X(PrevColon, "prev_ends_colon")                                                                    \
    X(PrevComma, "prev_ends_comma")                                                                    \
    X(PrevOpen, "prev_ends_open")                                                                      \
    X(FirstUpper, "first_upper")                                                                       \
    X(FirstLower, "first_lower")                                                                       \
    X(FirstDigit, "first_digit")                                                                       \
    X(FirstBullet, "first_bullet")                                                                     \
    X(FirstPunct, "first_punct")                                                                       \
    X(Cos15, "cos_15")                                                                                 \
    X(Cos15Z, "cos_15_z")                                                                              \
    X(Cos15Depth, "cos_15_depth")                                                                      \
    X(Cos50, "cos_50")                                                                                 \
    X(Cos50Z, "cos_50_z")                                                                              \
    X(Cos50Depth, "cos_50_depth")                                                                      \
    X(Cos150, "cos_150")                                                                               \
    X(Cos150Z, "cos_150_z")                                                                            \
    X(Cos150Depth, "cos_150_depth")                                                                    \
    X(TextTiling, "texttiling_depth")                                                                  \
    X(NewVocab, "new_vocab_50")                                                                        \
    X(NewVocabDiff, "new_vocab_50_diff")                                                               \
    X(StyleWidth, "style_width_shift")                                                                 \
    X(StyleMaxWidth, "style_max_width_shift")                                                          \
    X(StyleIndent, "style_indent_shift")                                                               \
    X(StyleDigit, "style_digit_shift")                                                                 \
    X(StyleUpper, "style_upper_shift")                                                                 \
    X(StylePunct, "style_punct_shift")                                                                 \
    X(StyleBlank, "style_blank_shift")                                                                 \
    X(RelPos, "rel_pos")                                                                               \
    X(EdgeDist, "edge_dist")                                                                           \
    X(DocBlankShare, "doc_blank_share")                                                                \
    X(DocHeadingShare, "doc_heading_share")                                                            \
    X(DocCodeShare, "doc_code_share")                                                                  \
    X(DocDefinitionShare, "doc_definition_share")                                                      \
    X(DocFenceShare, "doc_fence_share")                                                                \
    X(ParaStart, "para_start")                                                                         \
    X(ParaCos1, "para_cos_1")                                                                          \
    X(ParaCos2, "para_cos_2")                                                                          \
    X(ParaCos2Depth, "para_cos_2_depth")                                                               \
    X(ParaChars1, "para_chars_1")                                                                      \
    X(ParaChars2, "para_chars_2")                                                                      \
    X(ParaChars2Peak, "para_chars_2_peak")                                                             \
    X(ParaWidth1, "para_width_1")                                                                      \
    X(GapPrevDist, "gap_prev_dist")                                                                    \
    X(GapNextDist, "gap_next_dist")                                                                    \
    X(Cos400, "cos_400")                                                                               \
    X(Cos400Depth, "cos_400_depth")                                                                   \
    X(GapRarityMargin, "gap_rarity_margin")                                                           \
    X(HeadingMargin, "heading_margin")                                                                \
    X(ParaChars2Margin, "para_chars_2_margin")                                                        \
    X(Cos50DepthMargin, "cos_50_depth_margin")                                                        \
    X(StructuralNext, "structural_next_max")                                                          \
    X(GapAfterRarity, "gap_after_rarity")                                                             \
    X(GapAfterExcess, "gap_after_excess")                                                            \
    X(FenceOpen, "fence_open")                                                                        \
    X(FenceInside, "fence_inside")                                                                    \
    X(AtxLevelsBelow, "atx_levels_below")

enum F : std::size_t {
#define BLOCKLENS_X(e, n) e,
    BLOCKLENS_LEARN_FEATURES(BLOCKLENS_X)
#undef BLOCKLENS_X
    Count
};

constexpr std::array<std::string_view, Count> kNames = {
#define BLOCKLENS_X(e, n) n,
    BLOCKLENS_LEARN_FEATURES(BLOCKLENS_X)
#undef BLOCKLENS_X
};

constexpr std::size_t npos = static_cast<std::size_t>(-1);

float clip(double v, double lo, double hi)
{
    if (!std::isfinite(v))
        return 0.0f;
    return static_cast<float>(std::clamp(v, lo, hi));
}

// ---- per-line statistics ---------------------------------------------------------------------

struct LineStats {
    double width = 0, indent = 0, digit = 0, upper = 0, punct = 0;
};

LineStats lineStats(const TextLayout& layout, std::size_t line)
{
    LineStats s;
    const LineInfo& info = layout[line];
    s.width = info.width;
    s.indent = info.indent;
    const std::string_view t = layout.trimmed(line);
    std::size_t i = 0, letters = 0, upper = 0, digits = 0, punct = 0, total = 0;
    while (i < t.size()) {
        const char32_t c = segment::nextCodePoint(t, i);
        if (segment::isSpace(c))
            continue;
        ++total;
        if (segment::isDigit(c))
            ++digits;
        else if (segment::isLetter(c)) {
            ++letters;
            upper += segment::isUpper(c) ? 1 : 0;
        } else
            ++punct;
    }
    if (total > 0) {
        s.digit = static_cast<double>(digits) / static_cast<double>(total);
        s.punct = static_cast<double>(punct) / static_cast<double>(total);
    }
    if (letters > 0)
        s.upper = static_cast<double>(upper) / static_cast<double>(letters);
    return s;
}

// Character classes whose mix tells text kinds apart (prose, command lines, code, tables ...).
constexpr std::size_t kCharClasses = 8;

std::size_t charClass(char32_t c)
{
    if (segment::isLower(c))
        return 0;
    if (segment::isUpper(c))
        return 1;
    if (segment::isDigit(c))
        return 2;
    if (segment::isLetter(c))
        return 3; // caseless letters, other scripts
    switch (c) {
    case U'.': case U',': case U';': case U':': case U'!': case U'?': return 4;
    case U'(': case U')': case U'[': case U']': case U'{': case U'}': case U'<': case U'>': return 5;
    case U'"': case U'\'': case U'`': case U'\u2019': case U'\u201C': case U'\u201D': case U'\u00AB': case U'\u00BB': return 6;
    default: return 7; // - _ = / \\ | $ # @ * & % + ~ ^ and other symbols
    }
}

using CharCounts = std::array<double, kCharClasses>;

CharCounts charCounts(std::string_view line)
{
    CharCounts c{};
    std::size_t i = 0;
    while (i < line.size()) {
        const char32_t ch = segment::nextCodePoint(line, i);
        if (!segment::isSpace(ch))
            c[charClass(ch)] += 1;
    }
    return c;
}

// L1 distance of the two normalised histograms, in [0, 2].
double histogramDistance(const CharCounts& a, const CharCounts& b)
{
    double na = 0, nb = 0;
    for (std::size_t k = 0; k < kCharClasses; ++k) {
        na += a[k];
        nb += b[k];
    }
    if (na <= 0 || nb <= 0)
        return 0.0;
    double d = 0;
    for (std::size_t k = 0; k < kCharClasses; ++k)
        d += std::abs(a[k] / na - b[k] / nb);
    return d;
}

enum class FirstClass { None, Upper, Lower, Digit, Bullet, Punct };

FirstClass firstClass(std::string_view trimmed)
{
    if (trimmed.empty())
        return FirstClass::None;
    std::size_t i = 0;
    const char32_t c = segment::nextCodePoint(trimmed, i);
    if (segment::isUpper(c))
        return FirstClass::Upper;
    if (segment::isLower(c))
        return FirstClass::Lower;
    if (segment::isDigit(c))
        return FirstClass::Digit;
    const bool spaceAfter = i >= trimmed.size() || trimmed[i] == ' ' || trimmed[i] == '\t';
    if ((c == U'-' || c == U'*' || c == U'+' || c == U'\u2022' || c == U'\u2013') && spaceAfter)
        return FirstClass::Bullet;
    if (segment::isLetter(c))
        return FirstClass::Upper; // a letter without case (CJK, ...): treat as a sentence opener
    return FirstClass::Punct;
}

void zScores(const std::vector<double>& s, std::vector<double>& out)
{
    out.assign(s.size(), 0.0);
    if (s.empty())
        return;
    double mean = 0;
    for (double v : s)
        mean += v;
    mean /= static_cast<double>(s.size());
    double var = 0;
    for (double v : s)
        var += (v - mean) * (v - mean);
    const double sd = std::max(1e-3, std::sqrt(var / static_cast<double>(s.size())));
    for (std::size_t i = 0; i < s.size(); ++i)
        out[i] = (s[i] - mean) / sd;
}


// Writes one feature of one row, clipped to [lo, hi] (a value that is not finite becomes 0).
class FeatureWriter {
public:
    explicit FeatureWriter(FeatureMatrix& m) : m_(m) {}
    void operator()(std::size_t row, F f, double v, double lo = -8.0, double hi = 8.0)
    {
        m_.values[row * m_.cols + f] = clip(v, lo, hi);
    }
    float operator()(std::size_t row, F f) const { return m_.values[row * m_.cols + f]; }

private:
    FeatureMatrix& m_;
};

// ---- document-wide line statistics ----------------------------------------------------------

struct DocumentLines {
    std::vector<std::size_t> nonBlank; // the non-blank lines
    std::vector<LineStats> stats;      // of every non-blank line
    std::vector<std::size_t> gapCount; // lines after exactly g blank lines, for every g
    std::vector<double> gapAtLeast;    // share of gaps of at least g blank lines, for every g
    int minAtx = 7, minNumbering = 99; // the top heading levels in use
    std::array<bool, 7> atxUsed{};     // which atx levels (1..6) occur outside fences
    double medianWidth = 1;
    // Source code (definition-shaped lines outside fences) and Markdown code fences are counted
    // apart: a `# comment` in a source file is no heading, a `## Title` between fenced examples is
    // one, and one shared "code" share let a model trained on both read every `#` line in a
    // fence-heavy Markdown document as a comment (the markdown fold of docs/benchmarks.md).
    double blankShare = 0, headingShare = 0, definitionShare = 0, fenceShare = 0;
    double codeShare = 0; // both together: the legacy doc_code_share (see isLegacyFeature)
    // Standard deviation of each style statistic over the non-blank lines (the scale of a shift).
    double sdWidth = 1, sdIndent = 1, sdDigit = 1, sdUpper = 1, sdPunct = 1;
    // Index into nonBlank of the first non-blank line at or after each line.
    std::vector<std::size_t> nbIndex;
    // 1 for the ``` / ~~~ line that opens a code fence. The lines after it up to the closing one
    // never start a block, but the opening line may (a section that begins with an example, or
    // whose heading was removed): one shared `fence` flag taught a model to skip both.
    std::vector<std::uint8_t> opensFence;
};

bool isFenceMarker(const TextLayout& layout, std::size_t line)
{
    const std::string_view t = layout.trimmed(line);
    return layout[line].indent <= 4 && (t.starts_with("```") || t.starts_with("~~~"));
}

DocumentLines documentLines(const SegmentContext& ctx)
{
    const TextLayout& layout = ctx.layout;
    const auto& shapes = ctx.shapes;
    const std::size_t nLines = layout.size();
    DocumentLines d;
    std::vector<std::size_t>& nonBlank = d.nonBlank;
    std::vector<LineStats>& stats = d.stats;
    std::vector<std::size_t>& gapCount = d.gapCount;
    stats.resize(nLines);
    std::vector<double> widths;
    std::size_t headingLines = 0, definitionLines = 0, fenceLines = 0, codeLines = 0;
    std::size_t gaps = 0;
    for (std::size_t l = 0; l < nLines; ++l) {
        const LineInfo& info = layout[l];
        if (info.blank)
            continue;
        nonBlank.push_back(l);
        stats[l] = lineStats(layout, l);
        widths.push_back(info.width);
        const LineShape& s = shapes[l];
        const bool heading = segment::looksLikeHeading(layout, s, l);
        headingLines += heading ? 1 : 0;
        definitionLines += (s.definitionIndent >= 0 && !info.fence) ? 1 : 0;
        fenceLines += info.fence ? 1 : 0;
        codeLines += (s.definitionIndent >= 0 || info.fence) ? 1 : 0;
        if (s.atxLevel > 0) {
            d.minAtx = std::min(d.minAtx, s.atxLevel);
            d.atxUsed[static_cast<std::size_t>(s.atxLevel)] = true;
        }
        if (s.numbering > 0 && heading)
            d.minNumbering = std::min(d.minNumbering, s.numbering);
        if (l > 0 && info.blankBefore > 0) {
            if (gapCount.size() <= info.blankBefore)
                gapCount.resize(info.blankBefore + 1, 0);
            ++gapCount[info.blankBefore];
            ++gaps;
        }
    }
    d.gapAtLeast.assign(gapCount.size() + 1, 0.0);
    {
        std::size_t acc = 0;
        for (std::size_t g = gapCount.size(); g-- > 1;) {
            acc += gapCount[g];
            d.gapAtLeast[g] = gaps ? static_cast<double>(acc) / static_cast<double>(gaps) : 0.0;
        }
    }
    if (!widths.empty()) {
        std::nth_element(widths.begin(), widths.begin() + widths.size() / 2, widths.end());
        d.medianWidth = std::max(1.0, widths[widths.size() / 2]);
    }
    const double nonBlankCount = std::max<double>(1.0, static_cast<double>(nonBlank.size()));
    d.blankShare = nLines ? 1.0 - static_cast<double>(nonBlank.size()) / static_cast<double>(nLines) : 0.0;
    d.headingShare = static_cast<double>(headingLines) / nonBlankCount;
    d.definitionShare = static_cast<double>(definitionLines) / nonBlankCount;
    d.fenceShare = static_cast<double>(fenceLines) / nonBlankCount;
    d.codeShare = static_cast<double>(codeLines) / nonBlankCount;

    auto sdOf = [&](double LineStats::*field) {
        double mean = 0, var = 0;
        for (std::size_t l : nonBlank)
            mean += stats[l].*field;
        mean /= nonBlankCount;
        for (std::size_t l : nonBlank)
            var += (stats[l].*field - mean) * (stats[l].*field - mean);
        return std::max(1e-3, std::sqrt(var / nonBlankCount));
    };
    d.sdWidth = sdOf(&LineStats::width);
    d.sdIndent = sdOf(&LineStats::indent);
    d.sdDigit = sdOf(&LineStats::digit);
    d.sdUpper = sdOf(&LineStats::upper);
    d.sdPunct = sdOf(&LineStats::punct);
    d.opensFence.assign(nLines, 0);
    {
        bool open = false; // the same toggling as TextLayout's fence flag
        for (std::size_t l = 0; l < nLines; ++l) {
            if (!layout[l].fence) {
                open = false;
                continue;
            }
            if (!open) {
                d.opensFence[l] = 1;
                open = true;
            } else if (isFenceMarker(layout, l)) {
                open = false; // the closing line
            }
        }
    }
    d.nbIndex.assign(nLines + 1, nonBlank.size());
    {
        std::size_t j = nonBlank.size();
        for (std::size_t l = nLines; l-- > 0;) {
            if (!layout[l].blank)
                --j;
            d.nbIndex[l] = j;
        }
    }
    return d;
}

// ---- heuristic scores reused as features ----------------------------------------------------

struct HeuristicScores {
    std::vector<double> structural;      // StructuralScorer, per candidate
    std::vector<double> tiling;          // TextTiling depth, per candidate
    std::vector<double> headingStrength; // per line
    std::vector<double> opensDefinition; // per line: 1 opens a top-level definition, 0.5 a nested one
};

HeuristicScores heuristicScores(const SegmentContext& ctx, std::span<const Candidate> candidates, const DocumentLines& lines)
{
    const TextLayout& layout = ctx.layout;
    const auto& shapes = ctx.shapes;
    const std::size_t nLines = layout.size();
    HeuristicScores h;
    const segment::StructuralScorer structural;
    h.structural = structural.score(ctx, candidates);
    h.headingStrength.assign(nLines, 0.0);
    for (std::size_t l : lines.nonBlank)
        h.headingStrength[l] = structural.headingStrength(ctx, l);
    h.tiling = segment::TextTilingScorer(segment::TextTilingParams{120, 20, 3, false}).score(ctx, candidates);

    // Comments/decorators directly above a definition: the first of them opens its block.
    h.opensDefinition.assign(nLines, 0.0);
    for (std::size_t l = 1; l < nLines; ++l) {
        if (shapes[l].definitionIndent < 0 || layout[l].fence)
            continue;
        std::size_t start = l;
        while (start > 0 && !layout[start - 1].blank && shapes[start - 1].attachable
               && layout[start - 1].indent == layout[l].indent && shapes[start - 1].definitionIndent < 0)
            --start;
        h.opensDefinition[start] = std::max(h.opensDefinition[start], shapes[l].definitionIndent == 0 ? 1.0 : 0.5);
    }
    return h;
}

// ---- lexical cohesion at several window sizes -----------------------------------------------

struct Lexical {
    segment::Words words;
    std::vector<double> idfWeight;
    std::vector<std::size_t> wordPos;        // word index of each candidate
    std::vector<std::uint32_t> firstPrefix;  // words before k that occur there for the first time

    std::size_t size() const { return words.term.size(); }
    // Share of the words in [a, b) that occur there for the first time (new vocabulary).
    double newRate(std::size_t a, std::size_t b) const
    {
        return b > a ? static_cast<double>(firstPrefix[b] - firstPrefix[a]) / static_cast<double>(b - a) : 0.0;
    }
};

// Writes the cos_* features of every candidate; returns what the later sections reuse.
Lexical lexicalCohesion(const SegmentContext& ctx, std::span<const Candidate> candidates, FeatureWriter& set)
{
    Lexical x{segment::collectWords(ctx.doc.text(), 3), {}, {}, {}};
    const segment::Words& words = x.words;
    const std::size_t nWords = x.size();
    x.idfWeight = segment::idfWeights(words, 20, 0.1);
    x.wordPos.resize(candidates.size());
    for (std::size_t i = 0; i < candidates.size(); ++i)
        x.wordPos[i] = words.wordAt(candidates[i].offset);
    constexpr std::array<std::size_t, 4> kWindows = {15, 50, 150, 400};
    constexpr std::array<F, 4> kCos = {Cos15, Cos50, Cos150, Cos400}, kCosZ = {Cos15Z, Cos50Z, Cos150Z, Count},
                               kCosDepth = {Cos15Depth, Cos50Depth, Cos150Depth, Cos400Depth};
    for (std::size_t w = 0; w < kWindows.size(); ++w) {
        const std::size_t W = kWindows[w];
        std::vector<double> sims(candidates.size(), 0.0), z;
        if (nWords > 0) {
            segment::WindowPair pair(words, x.idfWeight);
            for (std::size_t i = 0; i < candidates.size(); ++i) {
                const std::size_t p = x.wordPos[i];
                pair.moveTo(p > W ? p - W : 0, p, std::min(nWords, p + W));
                // Near an edge a window is short: shrink towards "no information" (the mean).
                sims[i] = pair.cosine();
            }
        }
        zScores(sims, z);
        const auto d = segment::depthScores(sims);
        for (std::size_t i = 0; i < candidates.size(); ++i) {
            set(i, kCos[w], sims[i], 0, 1);
            if (kCosZ[w] != Count)
                set(i, kCosZ[w], z[i], -4, 4);
            set(i, kCosDepth[w], d[i], 0, 2);
        }
    }
    x.firstPrefix.assign(nWords + 1, 0);
    {
        std::vector<char> seen(words.vocabulary, 0);
        for (std::size_t k = 0; k < nWords; ++k) {
            const bool first = !seen[words.term[k]];
            seen[words.term[k]] = 1;
            x.firstPrefix[k + 1] = x.firstPrefix[k] + (first ? 1 : 0);
        }
    }
    return x;
}

// ---- paragraphs: runs of non-blank lines; compare the one or two before a paragraph start
// with the one or two from it on (words and character mix), and distances between gaps.

struct Paragraphs {
    std::vector<std::size_t> ofLine; // paragraph index of each non-blank line
    std::vector<double> maxWidth;    // widest line of each paragraph
    // Per paragraph start q >= 1: cosine and character-mix distance of 1 and 2 paragraphs each side.
    std::vector<double> cos1, cos2, cos2Depth, chars1, chars2, chars2Peak;
    // Per line: distance to the previous / next line with at least its gap (log, over the mean).
    std::vector<double> gapPrev, gapNext;
};

Paragraphs paragraphStatistics(const TextLayout& layout, const DocumentLines& lines, const Lexical& lexical)
{
    const std::size_t nLines = layout.size();
    const std::vector<std::size_t>& nonBlank = lines.nonBlank;
    const segment::Words& words = lexical.words;
    const std::size_t nWords = lexical.size();
    Paragraphs p;
    std::vector<std::size_t> paraStart; // first line of each paragraph
    p.ofLine.assign(nLines, 0);
    for (std::size_t l : nonBlank) {
        if (paraStart.empty() || layout[l].blankBefore > 0)
            paraStart.push_back(l);
        p.ofLine[l] = paraStart.size() - 1;
    }
    const std::size_t nParas = paraStart.size();
    // Character counts and widths, summed per paragraph; word index where each paragraph starts.
    std::vector<CharCounts> paraChars(nParas, CharCounts{});
    p.maxWidth.assign(nParas, 0.0);
    std::vector<std::size_t> paraWord(nParas + 1, nWords);
    for (std::size_t l : nonBlank) {
        const std::size_t q = p.ofLine[l];
        const CharCounts c = charCounts(layout.text(l));
        for (std::size_t k = 0; k < kCharClasses; ++k)
            paraChars[q][k] += c[k];
        p.maxWidth[q] = std::max(p.maxWidth[q], static_cast<double>(layout[l].width));
    }
    for (std::size_t q = 0; q < nParas; ++q)
        paraWord[q] = static_cast<std::size_t>(
            std::lower_bound(words.begin.begin(), words.begin.end(), layout[paraStart[q]].begin) - words.begin.begin());
    p.cos1.assign(nParas, 0.0);
    p.cos2.assign(nParas, 0.0);
    p.chars1.assign(nParas, 0.0);
    p.chars2.assign(nParas, 0.0);
    if (nWords > 0 && nParas > 1) {
        segment::WindowPair one(words, lexical.idfWeight), two(words, lexical.idfWeight);
        for (std::size_t q = 1; q < nParas; ++q) {
            one.moveTo(paraWord[q - 1], paraWord[q], paraWord[q + 1]);
            p.cos1[q] = one.cosine();
            two.moveTo(paraWord[q > 1 ? q - 2 : 0], paraWord[q], paraWord[std::min(nParas, q + 2)]);
            p.cos2[q] = two.cosine();
        }
    }
    for (std::size_t q = 1; q < nParas; ++q) {
        p.chars1[q] = histogramDistance(paraChars[q - 1], paraChars[q]);
        CharCounts before = paraChars[q - 1], after = paraChars[q];
        if (q > 1)
            for (std::size_t k = 0; k < kCharClasses; ++k)
                before[k] += paraChars[q - 2][k];
        if (q + 1 < nParas)
            for (std::size_t k = 0; k < kCharClasses; ++k)
                after[k] += paraChars[q + 1][k];
        p.chars2[q] = histogramDistance(before, after);
    }
    {
        std::vector<double> inner(p.cos2.begin() + (nParas > 1 ? 1 : 0), p.cos2.end());
        const auto d = segment::depthScores(inner);
        p.cos2Depth.assign(nParas, 0.0);
        for (std::size_t q = 1; q < nParas; ++q)
            p.cos2Depth[q] = d[q - 1];
    }
    // How much a paragraph start's character-mix change stands out from its neighbours' (a peak).
    p.chars2Peak.assign(nParas, 0.0);
    for (std::size_t q = 1; q < nParas; ++q) {
        double neighbours = 0;
        for (std::size_t r = q > 3 ? q - 3 : 1; r < std::min(nParas, q + 4); ++r)
            if (r != q)
                neighbours = std::max(neighbours, p.chars2[r]);
        p.chars2Peak[q] = p.chars2[q] - neighbours;
    }
    // Distance (non-blank lines) to the previous and next line with at least the same gap, over
    // the document's mean distance between such gaps: sections are longer than subsections.
    p.gapPrev.assign(nLines, 0.0);
    p.gapNext.assign(nLines, 0.0);
    {
        const std::uint32_t maxGap = lines.gapCount.empty() ? 0 : static_cast<std::uint32_t>(lines.gapCount.size() - 1);
        for (std::uint32_t g = 1; g <= maxGap && g <= 8; ++g) {
            std::vector<std::size_t> at; // non-blank indices of lines with gap >= g
            for (std::size_t j = 0; j < nonBlank.size(); ++j)
                if (nonBlank[j] > 0 && layout[nonBlank[j]].blankBefore >= g)
                    at.push_back(j);
            if (at.empty())
                continue;
            const double mean = static_cast<double>(nonBlank.size()) / static_cast<double>(at.size() + 1);
            for (std::size_t k = 0; k < at.size(); ++k) {
                const std::size_t l = nonBlank[at[k]];
                if (std::min<std::uint32_t>(layout[l].blankBefore, 8) != g && g < 8)
                    continue; // each line is measured at its own gap size
                const double prev = static_cast<double>(at[k] - (k > 0 ? at[k - 1] : 0));
                const double next = static_cast<double>((k + 1 < at.size() ? at[k + 1] : nonBlank.size()) - at[k]);
                p.gapPrev[l] = std::log((prev + 1) / (mean + 1));
                p.gapNext[l] = std::log((next + 1) / (mean + 1));
            }
        }
    }
    return p;
}

// ---- per candidate --------------------------------------------------------------------------

// Everything the per-candidate features read, computed once per document.
struct DocumentAnalysis {
    const SegmentContext& ctx;
    std::span<const Candidate> candidates;
    const DocumentLines& lines;
    const HeuristicScores& heuristics;
    const Lexical& lexical;
    const Paragraphs& paragraphs;
};

// Features of any candidate, also one inside a line: position, the document, cohesion.
void positionAndCohesion(FeatureWriter& set, const DocumentAnalysis& a, std::size_t i)
{
    const Candidate& c = a.candidates[i];
    const LineInfo& info = a.ctx.layout[c.line];
    set(i, Inline, c.offset == info.begin ? 0.0 : 1.0);

    // Position and document.
    const double length = std::max<double>(1.0, static_cast<double>(a.ctx.doc.length()));
    const double rel = static_cast<double>(c.offset) / length;
    set(i, RelPos, rel, 0, 1);
    set(i, EdgeDist, std::min(rel, 1.0 - rel), 0, 0.5);
    set(i, DocBlankShare, a.lines.blankShare, 0, 1);
    set(i, DocHeadingShare, a.lines.headingShare, 0, 1);
    set(i, DocCodeShare, a.lines.codeShare, 0, 1);
    set(i, DocDefinitionShare, a.lines.definitionShare, 0, 1);
    set(i, DocFenceShare, a.lines.fenceShare, 0, 1);

    // Cohesion that does not depend on the line shape.
    set(i, TextTiling, a.heuristics.tiling[i], 0, 2);
    {
        const std::size_t p = a.lexical.wordPos[i];
        const double after = a.lexical.newRate(p, std::min(a.lexical.size(), p + 50));
        const double before = a.lexical.newRate(p > 50 ? p - 50 : 0, p);
        set(i, NewVocab, after, 0, 1);
        set(i, NewVocabDiff, after - before, -1, 1);
    }
    set(i, Structural, a.heuristics.structural[i], 0, 4);
}

// The shape of the line a candidate starts: headings, numbering, definitions, its first character.
void lineShapeFeatures(FeatureWriter& set, const DocumentAnalysis& a, std::size_t i)
{
    const std::size_t L = a.candidates[i].line;
    const TextLayout& layout = a.ctx.layout;
    const LineInfo& info = layout[L];
    const LineShape& s = a.ctx.shapes[L];
    if (s.atxLevel > 0) {
        set(i, Atx, 1.0);
        set(i, AtxRel, (s.atxLevel - a.lines.minAtx) / 3.0, 0, 1);
        set(i, AtxTop, s.atxLevel == a.lines.minAtx ? 1.0 : 0.0);
        // How many deeper atx levels the document uses: a `# Title` with `##` and `###` under it
        // heads a hierarchy, a lone `# ...` (a shell prompt in a book, a comment in a script)
        // heads none. Where the levels start differs between sources (a page title or not, pages
        // joined into one document), so the depth below says more than the level itself.
        int below = 0;
        for (int l = s.atxLevel + 1; l <= 6; ++l)
            below += a.lines.atxUsed[static_cast<std::size_t>(l)] ? 1 : 0;
        set(i, AtxLevelsBelow, below / 3.0, 0, 1);
    }
    set(i, Setext, s.setext ? 1.0 : 0.0);
    set(i, Underline, s.underline ? 1.0 : 0.0);
    const bool numberedHeading = s.numbering > 0 && info.width <= 100 && !s.terminalPunct;
    if (numberedHeading) {
        set(i, Numbered, 1.0);
        set(i, NumberingParts, s.numbering / 4.0, 0, 1);
        set(i, NumberedTop, s.numbering == a.lines.minNumbering ? 1.0 : 0.0);
    }
    set(i, AllCaps, s.allCaps ? 1.0 : 0.0);
    set(i, TerminalPunct, s.terminalPunct ? 1.0 : 0.0);
    const std::string_view tr = layout.trimmed(L);
    set(i, EndsColon, tr.ends_with(":") ? 1.0 : 0.0);
    set(i, DefinitionTop, s.definitionIndent == 0 ? 1.0 : 0.0);
    set(i, DefinitionNested, s.definitionIndent > 0 ? 1.0 : 0.0);
    set(i, Attachable, s.attachable ? 1.0 : 0.0);
    set(i, OpensDefinition, a.heuristics.opensDefinition[L]);
    set(i, Isolated, segment::isIsolated(layout, L) ? 1.0 : 0.0);
    set(i, Fence, info.fence ? 1.0 : 0.0);
    set(i, FenceOpen, a.lines.opensFence[L]);
    set(i, FenceInside, info.fence && !a.lines.opensFence[L] ? 1.0 : 0.0);
    set(i, HeadingStrength, a.heuristics.headingStrength[L], 0, 2);
    switch (firstClass(tr)) {
    case FirstClass::Upper: set(i, FirstUpper, 1.0); break;
    case FirstClass::Lower: set(i, FirstLower, 1.0); break;
    case FirstClass::Digit: set(i, FirstDigit, 1.0); break;
    case FirstClass::Bullet: set(i, FirstBullet, 1.0); break;
    case FirstClass::Punct: set(i, FirstPunct, 1.0); break;
    case FirstClass::None: break;
    }
}

// Vertical space: the blank lines before the line, after its paragraph, and around it.
void verticalSpaceFeatures(FeatureWriter& set, const DocumentAnalysis& a, std::size_t i)
{
    const std::size_t L = a.candidates[i].line;
    const TextLayout& layout = a.ctx.layout;
    const std::vector<std::size_t>& nonBlank = a.lines.nonBlank;
    const std::vector<double>& gapAtLeast = a.lines.gapAtLeast;
    const std::uint32_t gap = L > 0 ? layout[L].blankBefore : 0;
    set(i, Blank1, gap == 1 ? 1.0 : 0.0);
    set(i, Blank2, gap == 2 ? 1.0 : 0.0);
    set(i, Blank3, gap >= 3 ? 1.0 : 0.0);
    if (gap > 0 && gap < gapAtLeast.size())
        set(i, GapRarity, 1.0 - gapAtLeast[gap], 0, 1);
    set(i, BlankAfter, L + 1 < layout.size() && layout[L + 1].blank ? 1.0 : 0.0);
    const std::size_t j = a.lines.nbIndex[L];
    {
        // The gap after this line's paragraph: a line set off more from what follows than from
        // what precedes it ends a block (an anchor, a note) rather than starting one.
        std::size_t last = j;
        while (last + 1 < nonBlank.size() && layout[nonBlank[last + 1]].blankBefore == 0)
            ++last;
        if (last + 1 < nonBlank.size()) {
            const std::uint32_t after = layout[nonBlank[last + 1]].blankBefore;
            const double rarityAfter = after < gapAtLeast.size() ? 1.0 - gapAtLeast[after] : 1.0;
            const double rarityBefore = gap > 0 && gap < gapAtLeast.size() ? 1.0 - gapAtLeast[gap] : 0.0;
            set(i, GapAfterRarity, rarityAfter, 0, 1);
            set(i, GapAfterExcess, rarityAfter - rarityBefore, -1, 1);
        }
    }
    std::uint32_t localMax = 0;
    for (std::size_t k = j > 8 ? j - 8 : 0; k < std::min(nonBlank.size(), j + 9); ++k)
        if (k != j)
            localMax = std::max(localMax, layout[nonBlank[k]].blankBefore);
    set(i, GapLocal, gap / static_cast<double>(std::max<std::uint32_t>(1, localMax)) / 2.0, 0, 1);
}

// Indentation and width, the previous non-blank line, and the strongest structural score nearby.
void indentationFeatures(FeatureWriter& set, const DocumentAnalysis& a, std::size_t i)
{
    const std::size_t L = a.candidates[i].line;
    const TextLayout& layout = a.ctx.layout;
    const LineInfo& info = layout[L];
    const double medianWidth = a.lines.medianWidth;
    set(i, Indent0, info.indent == 0 ? 1.0 : 0.0);
    set(i, IndentLog, std::log1p(static_cast<double>(info.indent)) / 3.0, 0, 2);
    set(i, WidthLog, std::log1p(static_cast<double>(info.width)) / 5.0, 0, 2);
    set(i, WidthRel, info.width / medianWidth, 0, 4);
    const std::size_t p = layout.previousNonBlank(L);
    if (p != npos) {
        const LineInfo& prev = layout[p];
        set(i, IndentDelta, (static_cast<double>(info.indent) - static_cast<double>(prev.indent)) / 8.0, -1, 1);
        set(i, PrevWidthRel, prev.width / medianWidth, 0, 4);
        const std::string_view pt = layout.trimmed(p);
        const char last = pt.empty() ? ' ' : pt.back();
        set(i, PrevSentenceEnd, (last == '.' || last == '!' || last == '?') ? 1.0 : 0.0);
        set(i, PrevColon, last == ':' ? 1.0 : 0.0);
        set(i, PrevComma, (last == ',' || last == ';') ? 1.0 : 0.0);
        set(i, PrevOpen, (std::isalnum(static_cast<unsigned char>(last)) || last == '-' || static_cast<unsigned char>(last) >= 0x80) ? 1.0 : 0.0);
        set(i, PrevHeading, a.heuristics.headingStrength[p], 0, 2);
        if (info.indent == 0 && prev.indent == 0 && (pt == "}" || pt == "};" || pt == "end") && !layout.trimmed(L).starts_with("}"))
            set(i, AfterClosingBrace, 1.0);
    }

    // The strongest structural score among the other candidates within 5 lines.
    const std::vector<double>& structural = a.heuristics.structural;
    double best = 0;
    for (std::size_t k = i; k-- > 0 && a.candidates[k].line + 5 >= L;)
        best = std::max(best, structural[k]);
    for (std::size_t k = i + 1; k < a.candidates.size() && a.candidates[k].line <= L + 5; ++k)
        best = std::max(best, structural[k]);
    set(i, StructuralMargin, structural[i] - best, -4, 4);
}

// A candidate at a paragraph start: how the paragraphs around it differ.
void paragraphFeatures(FeatureWriter& set, const DocumentAnalysis& a, std::size_t i)
{
    const std::size_t L = a.candidates[i].line;
    if (a.ctx.layout[L].blankBefore == 0 || L == 0)
        return;
    const Paragraphs& p = a.paragraphs;
    const std::size_t q = p.ofLine[L];
    set(i, ParaStart, 1.0);
    set(i, ParaCos1, p.cos1[q], 0, 1);
    set(i, ParaCos2, p.cos2[q], 0, 1);
    set(i, ParaCos2Depth, p.cos2Depth[q], 0, 2);
    set(i, ParaChars1, p.chars1[q], 0, 2);
    set(i, ParaChars2, p.chars2[q], 0, 2);
    set(i, ParaChars2Peak, p.chars2Peak[q], -2, 2);
    if (q > 0)
        set(i, ParaWidth1, std::abs(p.maxWidth[q] - p.maxWidth[q - 1]) / a.lines.sdWidth, 0, 4);
    set(i, GapPrevDist, p.gapPrev[L], -4, 4);
    set(i, GapNextDist, p.gapNext[L], -4, 4);
}

// Style shift between the non-blank lines before and after.
void styleShiftFeatures(FeatureWriter& set, const DocumentAnalysis& a, std::size_t i)
{
    constexpr std::size_t kStyleLines = 8;
    const std::size_t L = a.candidates[i].line;
    const DocumentLines& lines = a.lines;
    const std::vector<std::size_t>& nonBlank = lines.nonBlank;
    const std::size_t j = lines.nbIndex[L];
    const std::size_t b0 = j > kStyleLines ? j - kStyleLines : 0, a1 = std::min(nonBlank.size(), j + kStyleLines);
    if (j <= b0 || a1 <= j)
        return;
    // Sums of the statistics of non-blank lines [from, to), and their widest line.
    auto sum = [&](std::size_t from, std::size_t to, double& maxWidth) {
        LineStats total;
        for (std::size_t k = from; k < to; ++k) {
            const LineStats& x = lines.stats[nonBlank[k]];
            total.width += x.width;
            total.indent += x.indent;
            total.digit += x.digit;
            total.upper += x.upper;
            total.punct += x.punct;
            maxWidth = std::max(maxWidth, x.width);
        }
        return total;
    };
    double maxBefore = 0, maxAfter = 0;
    const LineStats before = sum(b0, j, maxBefore), after = sum(j, a1, maxAfter);
    const double nb = static_cast<double>(j - b0), na = static_cast<double>(a1 - j);
    auto shift = [&](double LineStats::*f, double sd) {
        return std::abs(before.*f / nb - after.*f / na) / sd;
    };
    set(i, StyleWidth, shift(&LineStats::width, lines.sdWidth), 0, 4);
    set(i, StyleMaxWidth, std::abs(maxBefore - maxAfter) / lines.sdWidth, 0, 4);
    set(i, StyleIndent, shift(&LineStats::indent, lines.sdIndent), 0, 4);
    set(i, StyleDigit, shift(&LineStats::digit, lines.sdDigit), 0, 4);
    set(i, StyleUpper, shift(&LineStats::upper, lines.sdUpper), 0, 4);
    set(i, StylePunct, shift(&LineStats::punct, lines.sdPunct), 0, 4);
    // Blank-line density: lines spanned per non-blank line, before vs after.
    const double spanBefore = static_cast<double>(L - nonBlank[b0]) / nb;
    const double spanAfter = static_cast<double>(nonBlank[a1 - 1] + 1 - L) / na;
    set(i, StyleBlank, std::abs(spanBefore - spanAfter), 0, 4);
}

// ---- context: how a candidate compares with the other candidates within a few lines (a
// boundary is usually the strongest place of its neighbourhood, e.g. the heading rather than the
// anchor or blank-line-separated note just above it). Reads the features written above.
void neighbourhoodFeatures(FeatureWriter& set, std::span<const Candidate> candidates)
{
    constexpr std::uint32_t kNeighbourLines = 4;
    const std::array<std::pair<F, F>, 4> margins = {{{GapRarity, GapRarityMargin},
                                                     {HeadingStrength, HeadingMargin},
                                                     {ParaChars2, ParaChars2Margin},
                                                     {Cos50Depth, Cos50DepthMargin}}};
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const std::uint32_t L = candidates[i].line;
        std::array<float, 4> best{};
        float nextStructural = 0;
        auto visit = [&](std::size_t k) {
            for (std::size_t f = 0; f < margins.size(); ++f)
                best[f] = std::max(best[f], set(k, margins[f].first));
        };
        for (std::size_t k = i; k-- > 0 && candidates[k].line + kNeighbourLines >= L;)
            visit(k);
        for (std::size_t k = i + 1; k < candidates.size() && candidates[k].line <= L + kNeighbourLines; ++k) {
            visit(k);
            nextStructural = std::max(nextStructural, set(k, Structural));
        }
        for (std::size_t f = 0; f < margins.size(); ++f)
            set(i, margins[f].second, set(i, margins[f].first) - best[f], -4, 4);
        set(i, StructuralNext, nextStructural, 0, 4);
    }
}

} // namespace

bool isLegacyFeature(std::string_view name)
{
    return name == "doc_code_share" || name == "fence" || name == "atx_top";
}

std::span<const std::string_view> featureNames() { return kNames; }

FeatureMatrix computeFeatures(const SegmentContext& ctx, std::span<const Candidate> candidates)
{
    FeatureMatrix m;
    m.rows = candidates.size();
    m.cols = Count;
    m.values.assign(m.rows * m.cols, 0.0f);
    if (candidates.empty())
        return m;
    FeatureWriter set(m);
    const DocumentLines lines = documentLines(ctx);
    const HeuristicScores heuristics = heuristicScores(ctx, candidates, lines);
    const Lexical lexical = lexicalCohesion(ctx, candidates, set);
    const Paragraphs paragraphs = paragraphStatistics(ctx.layout, lines, lexical);
    const DocumentAnalysis a{ctx, candidates, lines, heuristics, lexical, paragraphs};
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        positionAndCohesion(set, a, i);
        const LineInfo& info = ctx.layout[candidates[i].line];
        if (candidates[i].offset != info.begin || info.blank)
            continue; // the rest describes the line a candidate starts
        lineShapeFeatures(set, a, i);
        verticalSpaceFeatures(set, a, i);
        indentationFeatures(set, a, i);
        paragraphFeatures(set, a, i);
        styleShiftFeatures(set, a, i);
    }
    neighbourhoodFeatures(set, candidates);
    return m;
}

} // namespace blocklens::learn
