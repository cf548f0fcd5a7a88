#include "analysis/attention_analysis.hpp"

#include <algorithm>


namespace blocklens::ui {

bool AttentionAnalysis::onCapturedBins(const std::vector<std::int64_t>& starts) const
{
    const auto& bins = capture.binStarts();
    return std::all_of(starts.begin(), starts.end(), [&](std::int64_t s) { return std::binary_search(bins.begin(), bins.end(), s); });
}

std::size_t AttentionAnalysis::offsetOfToken(std::int64_t token) const
{
    const std::size_t length = document ? document->length() : 0;
    // A zero-width token (a template's special) has no place in the text: the next one's.
    for (auto i = static_cast<std::size_t>(std::max<std::int64_t>(token, 0)); static_cast<std::int64_t>(i) < documentTokens && i < spans.size(); ++i)
        if (spans[i].end > spans[i].begin)
            return spans[i].begin;
    return length;
}

std::int64_t AttentionAnalysis::blockEnd(const std::vector<std::int64_t>& starts, std::int64_t block) const
{
    return block + 1 < static_cast<std::int64_t>(starts.size()) ? starts[static_cast<std::size_t>(block + 1)] : capture.tokens();
}

QString AttentionAnalysis::preview(std::int64_t begin, std::int64_t end, int maxChars) const
{
    QString text;
    if (document && begin < documentTokens) {
        const std::size_t a = offsetOfToken(begin);
        const std::size_t b = end >= documentTokens ? document->length() : offsetOfToken(end);
        const std::string_view slice = document->slice(a, std::min<std::size_t>(b, a + static_cast<std::size_t>(maxChars) * 2));
        text = QString::fromUtf8(slice.data(), static_cast<qsizetype>(slice.size()));
    }
    if (end > documentTokens && !queryText.isEmpty())
        text += (text.isEmpty() ? QString() : QStringLiteral(" … ")) + QStringLiteral("[query] ") + queryText;
    text = text.simplified();
    if (text.size() > maxChars)
        text = text.left(maxChars - 1) + QStringLiteral("…");
    return text;
}

} // namespace blocklens::ui
