#include "learn/lm/block_windows.hpp"

#include "segment/token_blocks.hpp"
#include "segment/token_grid.hpp"
#include "util/error.hpp"

#include <algorithm>

namespace blocklens::lm {

std::vector<BlockWindow> blockWindows(const Document& doc, std::int64_t documentIndex, const Tokenizer& tokenizer, std::int32_t bos,
                                      const segment::Segmenter& segmenter, const segment::SegmentOptions& segmentOptions,
                                      const WindowOptions& o)
{
    if (o.tokens < 2)
        throw Error("a window needs at least 2 tokens");
    const Encoding encoding = tokenizer.encode(doc.text());
    const auto n = static_cast<std::int64_t>(encoding.ids.size());
    const std::int64_t body = o.tokens; // document tokens per window: inputs after BOS + the last target
    std::vector<BlockWindow> windows;
    if (n < body)
        return windows;
    const auto grid = segment::TokenGrid::fromEncoding(encoding, doc.length(), tokenizer.describe());
    const auto starts = segment::tokenBlockStarts(segmenter.segment(doc, grid, segmentOptions)); // token starts, first 0
    for (std::int64_t w0 = 0; w0 + body <= n; w0 += body) {
        if (o.maxWindowsPerDocument > 0 && static_cast<std::int64_t>(windows.size()) >= o.maxWindowsPerDocument)
            break;
        BlockWindow w;
        w.document = documentIndex;
        w.ids.reserve(static_cast<std::size_t>(body + 1));
        w.ids.push_back(bos);
        w.ids.insert(w.ids.end(), encoding.ids.begin() + w0, encoding.ids.begin() + w0 + body);
        // Input i (i >= 1) is document token w0 + i - 1; a block starting at token s starts at input s - w0 + 1.
        w.blockStarts.push_back(0);
        for (const auto s : starts)
            if (s > w0 && s - w0 + 1 < o.tokens)
                w.blockStarts.push_back(s - w0 + 1);
        windows.push_back(std::move(w));
    }
    return windows;
}

} // namespace blocklens::lm
