#include "segment/lexical_windows.hpp"

#include "segment/char_class.hpp"
#include "util/utf8.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

namespace blocklens::segment {

std::size_t Words::wordAt(std::size_t offset) const
{
    return static_cast<std::size_t>(std::lower_bound(begin.begin(), begin.end(), offset) - begin.begin());
}

Words collectWords(std::string_view text, std::size_t minLength)
{
    Words w;
    std::unordered_map<std::string, std::uint32_t> ids;
    std::string current;
    std::size_t currentLength = 0, currentBegin = 0;
    auto flush = [&] {
        if (currentLength >= minLength) {
            const auto [it, inserted] = ids.try_emplace(current, static_cast<std::uint32_t>(ids.size()));
            w.term.push_back(it->second);
            w.begin.push_back(currentBegin);
        }
        current.clear();
        currentLength = 0;
    };
    std::size_t i = 0, cp = 0;
    while (i < text.size()) {
        const char32_t c = nextCodePoint(text, i);
        if (isLetter(c)) {
            if (currentLength == 0)
                currentBegin = cp;
            utf8::append(current, toLower(c));
            ++currentLength;
        } else if (currentLength > 0) {
            flush();
        }
        ++cp;
    }
    if (currentLength > 0)
        flush();
    w.vocabulary = ids.size();
    return w;
}

std::vector<double> idfWeights(const Words& words, std::size_t pseudoSentence, double add)
{
    const std::size_t n = words.size(), ps = std::max<std::size_t>(1, pseudoSentence);
    const std::size_t sentences = std::max<std::size_t>(1, (n + ps - 1) / ps);
    std::vector<std::uint32_t> df(words.vocabulary, 0), lastSeen(words.vocabulary, UINT32_MAX);
    for (std::size_t k = 0; k < n; ++k) {
        const auto s = static_cast<std::uint32_t>(k / ps);
        if (lastSeen[words.term[k]] != s) {
            lastSeen[words.term[k]] = s;
            ++df[words.term[k]];
        }
    }
    std::vector<double> weight(words.vocabulary);
    for (std::size_t t = 0; t < words.vocabulary; ++t) {
        const double idf = std::log(static_cast<double>(sentences) / df[t]) + add;
        weight[t] = idf * idf;
    }
    return weight;
}

WindowPair::WindowPair(const Words& words, const std::vector<double>& weight)
    : words_(words), weight_(weight), left_(words.vocabulary, 0), right_(words.vocabulary, 0)
{
}

void WindowPair::moveTo(std::size_t l, std::size_t p, std::size_t r)
{
    // Add before removing, so counts never go negative even when windows jump past each other.
    for (std::size_t k = p_; k < p; ++k)
        add(left_, right_, normL_, words_.term[k], +1);
    for (std::size_t k = r_; k < r; ++k)
        add(right_, left_, normR_, words_.term[k], +1);
    for (std::size_t k = l_; k < l; ++k)
        add(left_, right_, normL_, words_.term[k], -1);
    for (std::size_t k = p_; k < p; ++k)
        add(right_, left_, normR_, words_.term[k], -1);
    l_ = l;
    p_ = p;
    r_ = r;
}

double WindowPair::cosine() const
{
    if (normL_ <= 1e-12 || normR_ <= 1e-12)
        return 0.0;
    return std::clamp(dot_ / std::sqrt(normL_ * normR_), 0.0, 1.0);
}

void WindowPair::add(std::vector<std::int32_t>& self, const std::vector<std::int32_t>& other, double& norm,
                     std::uint32_t t, int d)
{
    const double w = weight_[t];
    if (d > 0) {
        dot_ += w * other[t];
        norm += w * (2.0 * self[t] + 1);
        ++self[t];
    } else {
        --self[t];
        dot_ -= w * other[t];
        norm -= w * (2.0 * self[t] + 1);
    }
}

std::vector<double> depthScores(const std::vector<double>& s)
{
    const std::size_t m = s.size();
    std::vector<double> left(m), right(m), out(m);
    for (std::size_t i = 0; i < m; ++i)
        left[i] = (i > 0 && s[i - 1] >= s[i]) ? left[i - 1] : s[i];
    for (std::size_t i = m; i-- > 0;)
        right[i] = (i + 1 < m && s[i + 1] >= s[i]) ? right[i + 1] : s[i];
    for (std::size_t i = 0; i < m; ++i)
        out[i] = (left[i] - s[i]) + (right[i] - s[i]);
    return out;
}

} // namespace blocklens::segment
