#include "tokenizer/bpe_trainer.hpp"

#include "tokenizer/byte_level.hpp"
#include "tokenizer/regex.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <queue>
#include <set>
#include <thread>

namespace blocklens {
namespace {

// The pattern of the ByteLevel pre-tokenizer (tokenizers' byte_level.rs), in Oniguruma syntax.
constexpr std::string_view kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

const tok::Regex& gpt2Regex()
{
    static const tok::Regex regex = tok::Regex::compile(kGpt2Pattern, "GPT-2 pre-tokenizer");
    return regex;
}

void countInto(std::string_view text, std::unordered_map<std::string, std::int64_t>& words, std::int64_t& total)
{
    std::vector<std::pair<std::uint32_t, std::uint32_t>> matches;
    gpt2Regex().findAll(text, matches);
    for (const auto& [b, e] : matches) {
        ++words[std::string(text.substr(b, e - b))];
        ++total;
    }
}

// Cut points for splitting a text among threads, where the regex's split is the same whether or
// not the text is cut: right after a "\n" that has a printable ASCII character on both sides (that
// newline is then always a word of its own, and no word reaches across it).
std::vector<std::size_t> cutPoints(std::string_view text, unsigned parts)
{
    const auto solid = [](char c) { return c > 0x20 && c < 0x7f; };
    std::vector<std::size_t> cuts{0};
    for (unsigned i = 1; i < parts; ++i) {
        std::size_t pos = std::max(cuts.back() + 1, text.size() * i / parts);
        while (pos != std::string_view::npos && pos + 1 < text.size() &&
               !(pos > 0 && text[pos] == '\n' && solid(text[pos - 1]) && solid(text[pos + 1])))
            pos = text.find('\n', pos + 1);
        if (pos == std::string_view::npos || pos + 1 >= text.size())
            break;
        cuts.push_back(pos + 1);
    }
    cuts.push_back(text.size());
    return cuts;
}

using Pair = std::uint64_t; // (left id << 32) | right id
Pair makePair(std::int32_t a, std::int32_t b) { return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b); }
std::int32_t leftOf(Pair p) { return static_cast<std::int32_t>(p >> 32); }
std::int32_t rightOf(Pair p) { return static_cast<std::int32_t>(p & 0xffffffffu); }

struct HeapEntry {
    std::int64_t count;
    Pair pair;
    // Max-heap on count; on equal counts the smaller pair comes first.
    bool operator<(const HeapEntry& o) const { return count != o.count ? count < o.count : pair > o.pair; }
};

} // namespace

BpeWordCounts::BpeWordCounts() = default;

void BpeWordCounts::add(std::string_view text, unsigned threads)
{
    if (threads == 0)
        threads = std::max(1u, std::thread::hardware_concurrency());
    if (threads == 1 || text.size() < (1u << 20)) {
        countInto(text, words_, total_);
        return;
    }
    const auto cuts = cutPoints(text, threads);
    std::vector<std::unordered_map<std::string, std::int64_t>> partial(cuts.size() - 1);
    std::vector<std::int64_t> totals(cuts.size() - 1, 0);
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i)
        pool.emplace_back([&, i] { countInto(text.substr(cuts[i], cuts[i + 1] - cuts[i]), partial[i], totals[i]); });
    for (auto& t : pool)
        t.join();
    for (std::size_t i = 0; i < partial.size(); ++i) {
        for (auto& [w, c] : partial[i])
            words_[w] += c;
        total_ += totals[i];
    }
}

void BpeWordCounts::merge(const BpeWordCounts& other)
{
    for (const auto& [w, c] : other.words_)
        words_[w] += c;
    total_ += other.total_;
}

BpeTrainResult trainByteLevelBpe(const BpeWordCounts& counts, const BpeTrainerOptions& options, const Progress& progress)
{
    const std::size_t specials = options.specialTokens.size();
    if (options.vocabSize < specials + 256)
        throw Error("vocabulary size " + std::to_string(options.vocabSize) + " cannot hold the " + std::to_string(specials) +
                    " special tokens and the 256 byte tokens");
    {
        std::set<std::string> seen;
        for (const auto& s : options.specialTokens)
            if (s.empty() || !seen.insert(s).second)
                throw Error("special tokens must be non-empty and distinct, got '" + s + "'");
    }

    // Vocabulary: token strings in the byte-level alphabet.
    std::vector<std::string> idToToken(options.specialTokens.begin(), options.specialTokens.end());
    std::unordered_map<std::string, std::int32_t> tokenToId;
    for (std::size_t i = 0; i < specials; ++i)
        tokenToId[idToToken[i]] = static_cast<std::int32_t>(i);
    const auto byteId = [&](std::uint8_t b) { return static_cast<std::int32_t>(specials + b); };
    for (int b = 0; b < 256; ++b) {
        std::string t(tok::byte_level::utf8Of(static_cast<std::uint8_t>(b)));
        if (tokenToId.count(t))
            throw Error("special token '" + t + "' collides with a byte token");
        tokenToId[t] = static_cast<std::int32_t>(idToToken.size());
        idToToken.push_back(std::move(t));
    }

    // Words as symbol sequences, sorted so that the result does not depend on hash order.
    std::vector<std::pair<std::string, std::int64_t>> sorted(counts.words().begin(), counts.words().end());
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::vector<std::int32_t>> words(sorted.size());
    std::vector<std::int64_t> freq(sorted.size());
    for (std::size_t w = 0; w < sorted.size(); ++w) {
        for (unsigned char c : sorted[w].first)
            words[w].push_back(byteId(c));
        freq[w] = sorted[w].second;
    }
    sorted.clear();
    sorted.shrink_to_fit();

    std::unordered_map<Pair, std::int64_t> pairCount;
    std::unordered_map<Pair, std::vector<std::int32_t>> pairWords; // words that held the pair (may be stale)
    for (std::size_t w = 0; w < words.size(); ++w)
        for (std::size_t i = 0; i + 1 < words[w].size(); ++i) {
            const Pair p = makePair(words[w][i], words[w][i + 1]);
            pairCount[p] += freq[w];
            auto& list = pairWords[p];
            if (list.empty() || list.back() != static_cast<std::int32_t>(w))
                list.push_back(static_cast<std::int32_t>(w));
        }
    std::priority_queue<HeapEntry> heap;
    for (const auto& [p, c] : pairCount)
        heap.push({c, p});

    std::vector<std::pair<std::int32_t, std::int32_t>> merges;
    std::vector<std::int64_t> lastVisit(words.size(), -1);
    std::vector<std::int32_t> rewritten;
    std::unordered_map<Pair, std::int64_t> delta;
    const std::size_t wanted = options.vocabSize;
    while (idToToken.size() < wanted && !heap.empty()) {
        if (progress.stopRequested())
            break;
        const HeapEntry top = heap.top();
        heap.pop();
        const auto it = pairCount.find(top.pair);
        const std::int64_t current = it == pairCount.end() ? 0 : it->second;
        if (current != top.count) { // stale entry: requeue with the true count
            if (current > 0)
                heap.push({current, top.pair});
            continue;
        }
        if (current < options.minFrequency)
            break;
        const std::int32_t a = leftOf(top.pair), b = rightOf(top.pair);
        std::string merged = idToToken[a] + idToToken[b];
        std::int32_t id;
        if (auto found = tokenToId.find(merged); found != tokenToId.end()) {
            id = found->second;
        } else {
            id = static_cast<std::int32_t>(idToToken.size());
            tokenToId.emplace(merged, id);
            idToToken.push_back(std::move(merged));
        }
        merges.emplace_back(a, b);
        const auto mergeIndex = static_cast<std::int64_t>(merges.size());

        // Rewrite every word holding the pair; pair counts change by (new pairs - old pairs) x freq.
        delta.clear();
        auto wordsOfPair = std::move(pairWords[top.pair]);
        pairWords.erase(top.pair);
        for (const std::int32_t w : wordsOfPair) {
            if (lastVisit[w] == mergeIndex)
                continue;
            lastVisit[w] = mergeIndex;
            auto& sym = words[w];
            bool has = false;
            for (std::size_t i = 0; i + 1 < sym.size() && !has; ++i)
                has = sym[i] == a && sym[i + 1] == b;
            if (!has)
                continue;
            for (std::size_t i = 0; i + 1 < sym.size(); ++i)
                delta[makePair(sym[i], sym[i + 1])] -= freq[w];
            rewritten.clear();
            for (std::size_t i = 0; i < sym.size();) {
                if (i + 1 < sym.size() && sym[i] == a && sym[i + 1] == b) {
                    rewritten.push_back(id);
                    i += 2;
                } else {
                    rewritten.push_back(sym[i++]);
                }
            }
            sym.assign(rewritten.begin(), rewritten.end());
            for (std::size_t i = 0; i + 1 < sym.size(); ++i) {
                const Pair p = makePair(sym[i], sym[i + 1]);
                delta[p] += freq[w];
                if (sym[i] == id || sym[i + 1] == id) {
                    auto& list = pairWords[p];
                    if (list.empty() || list.back() != w)
                        list.push_back(w);
                }
            }
        }
        for (const auto& [p, d] : delta) {
            if (d == 0)
                continue;
            auto& c = pairCount[p];
            c += d;
            if (c <= 0) {
                pairCount.erase(p);
                if (p != top.pair)
                    continue;
            } else if (d > 0) {
                heap.push({c, p}); // raised counts need a fresh entry; lowered ones are fixed when popped
            }
        }
        pairCount.erase(top.pair);
        progress(static_cast<std::int64_t>(idToToken.size()), static_cast<std::int64_t>(wanted), "merges");
    }

    // tokenizer.json in the layout `tokenizers` writes.
    using ojson = nlohmann::ordered_json;
    ojson j;
    j["version"] = "1.0";
    j["truncation"] = nullptr;
    j["padding"] = nullptr;
    ojson added = ojson::array();
    for (std::size_t i = 0; i < specials; ++i)
        added.push_back({{"id", i}, {"content", options.specialTokens[i]}, {"single_word", false}, {"lstrip", false},
                         {"rstrip", false}, {"normalized", false}, {"special", true}});
    j["added_tokens"] = added;
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
    if (options.prependFirstSpecial && specials > 0) {
        const std::string& bos = options.specialTokens[0];
        ojson special = {{"SpecialToken", {{"id", bos}, {"type_id", 0}}}};
        j["post_processor"] = {
            {"type", "TemplateProcessing"},
            {"single", ojson::array({special, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})},
            {"pair", ojson::array({special, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, special,
                                   {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}})},
            {"special_tokens", {{bos, {{"id", bos}, {"ids", ojson::array({0})}, {"tokens", ojson::array({bos})}}}}}};
    } else {
        j["post_processor"] = nullptr;
    }
    j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
    ojson vocab = ojson::object();
    for (std::size_t i = 0; i < idToToken.size(); ++i)
        vocab[idToToken[i]] = i;
    ojson mergeList = ojson::array();
    for (const auto& [l, r] : merges)
        mergeList.push_back(ojson::array({idToToken[l], idToToken[r]}));
    j["model"] = {{"type", "BPE"},
                  {"dropout", nullptr},
                  {"unk_token", nullptr},
                  {"continuing_subword_prefix", nullptr},
                  {"end_of_word_suffix", nullptr},
                  {"fuse_unk", false},
                  {"byte_fallback", false},
                  {"ignore_merges", false},
                  {"vocab", vocab},
                  {"merges", mergeList}};
    BpeTrainResult result;
    result.json = j.dump(1) + "\n";
    result.vocabSize = idToToken.size();
    result.merges = merges.size();
    return result;
}

} // namespace blocklens
