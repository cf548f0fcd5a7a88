#include "tokenizer/bpe_model.hpp"

#include "tokenizer/byte_level.hpp"
#include "util/error.hpp"
#include "util/utf8.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>

namespace blocklens::tok {
namespace {

std::atomic<std::uint64_t> gNextSerial{1};

// The word cache is bounded: words of 256 bytes or more are never cached, and a cache that holds
// kMaxCacheEntries words or kMaxCachedTokens tokens is cleared (per model, kind and thread; at
// most 4 models per thread), so it stays under ~10 MB per cache (keys included) however many
// distinct words pass.
constexpr std::size_t kMaxCachedWordBytes = 256;  // as the library's cache
constexpr std::size_t kCutWordsLongerThan = 256;  // bytes
constexpr std::size_t kMaxCacheEntries = 1 << 15;
constexpr std::size_t kMaxCachedTokens = 1 << 17;

struct CachedWord {
    std::uint32_t offset;
    std::uint32_t count;
};

struct CachedToken {
    std::int32_t id;
    std::uint32_t len;
};

// One model's recent words on one thread. Two maps: byte-level words (raw bytes) and others.
struct WordCache {
    std::uint64_t owner = 0;
    FlatStringMap<CachedWord> maps[2];
    std::vector<CachedToken> pool[2];

    void reset(std::uint64_t newOwner)
    {
        owner = newOwner;
        for (int k = 0; k < 2; ++k) {
            maps[k].clear();
            pool[k].clear();
        }
    }
};

WordCache& cacheFor(std::uint64_t serial)
{
    thread_local std::array<std::unique_ptr<WordCache>, 4> slots;
    thread_local std::size_t nextVictim = 0;
    for (auto& s : slots)
        if (s && s->owner == serial)
            return *s;
    auto& victim = slots[nextVictim];
    nextVictim = (nextVictim + 1) % slots.size();
    if (!victim) {
        victim = std::make_unique<WordCache>();
        for (auto& m : victim->maps)
            m.reserve(kMaxCacheEntries);
    }
    victim->reset(serial);
    return *victim;
}

bool lookupCache(WordCache& c, int kind, std::string_view word, std::vector<WordToken>& out)
{
    const CachedWord* hit = c.maps[kind].find(word);
    if (!hit)
        return false;
    std::uint32_t pos = 0;
    for (std::uint32_t k = 0; k < hit->count; ++k) {
        const CachedToken& t = c.pool[kind][hit->offset + k];
        out.push_back({t.id, pos, pos + t.len});
        pos += t.len;
    }
    return true;
}

void storeCache(WordCache& c, int kind, std::string_view word, const WordToken* tokens, std::size_t n)
{
    if (word.size() >= kMaxCachedWordBytes)
        return;
    if (c.maps[kind].size() >= kMaxCacheEntries || c.pool[kind].size() + n > kMaxCachedTokens) {
        c.maps[kind].clear();
        c.pool[kind].clear();
    }
    const auto offset = static_cast<std::uint32_t>(c.pool[kind].size());
    for (std::size_t k = 0; k < n; ++k)
        c.pool[kind].push_back({tokens[k].id, tokens[k].end - tokens[k].begin});
    c.maps[kind].insert(word, {offset, static_cast<std::uint32_t>(n)});
}

} // namespace

struct BpeModel::Scratch {
    std::vector<Symbol> symbols;
    struct Entry {
        std::uint32_t rank;
        std::uint32_t pos;
        std::int32_t newId;
    };
    std::vector<Entry> heap;
    std::string key;
};

BpeModel::BpeModel(const std::vector<std::pair<std::string, std::int32_t>>& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
                   const std::string& source)
    : options_(std::move(options)), serial_(gNextSerial.fetch_add(1))
{
    if (vocab.empty()) // no token could ever be produced (and "ids go up to -1" would say nothing)
        throw Error("the BPE vocabulary is empty: a tokenizer needs at least one token", {.file = source, .item = "model.vocab"});
    vocab_.reserve(vocab.size());
    std::int32_t maxId = -1;
    for (const auto& [token, id] : vocab) {
        if (id < 0)
            throw Error("token \"" + token + "\" has a negative id " + std::to_string(id),
                        {.file = source, .item = "model.vocab"});
        vocab_.insert(token, id, /*overwrite=*/true);
        maxId = std::max(maxId, id);
    }
    if (static_cast<std::size_t>(maxId) > 4 * vocab.size() + 1'000'000)
        throw Error("token ids go up to " + std::to_string(maxId) + " for " + std::to_string(vocab.size()) +
                        " tokens; a vocabulary's ids must be (nearly) contiguous",
                    {.file = source, .item = "model.vocab"});
    idToToken_.assign(static_cast<std::size_t>(maxId + 1), std::string());
    vocab_.forEach([&](std::string_view token, std::int32_t id) { idToToken_[static_cast<std::size_t>(id)] = token; });

    // Byte-level: raw-byte spellings of tokens made only of byte-level characters.
    byteLevelReady_ = true;
    for (int b = 0; b < 256; ++b) {
        const std::int32_t* id = vocab_.find(byte_level::utf8Of(static_cast<std::uint8_t>(b)));
        byteIds_[static_cast<std::size_t>(b)] = id ? *id : -1;
        if (!id)
            byteLevelReady_ = false;
    }
    if (byteLevelReady_) {
        rawVocab_.reserve(vocab_.size());
        vocab_.forEach([&](std::string_view token, std::int32_t id) {
            if (auto raw = byte_level::toBytes(token))
                rawVocab_.insert(*raw, id);
        });
    }
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const std::int32_t* id = vocab_.find(name);
        byteFallbackIds_[static_cast<std::size_t>(b)] = id ? *id : -1;
    }
    if (options_.unkToken) {
        if (const std::int32_t* id = vocab_.find(*options_.unkToken))
            unkId_ = *id;
    }

    const std::size_t prefixLen = options_.continuingSubwordPrefix ? options_.continuingSubwordPrefix->size() : 0;
    merges_.reserve(merges.size());
    std::string joined;
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [a, b] = merges[rank];
        auto field = [&] { return "model.merges[" + std::to_string(rank) + "]"; };
        const std::int32_t* ia = vocab_.find(a);
        if (!ia)
            throw Error("merge \"" + a + " " + b + "\" refers to \"" + a + "\", which is not in the vocabulary",
                        {.file = source, .item = field()});
        const std::int32_t* ib = vocab_.find(b);
        if (!ib)
            throw Error("merge \"" + a + " " + b + "\" refers to \"" + b + "\", which is not in the vocabulary",
                        {.file = source, .item = field()});
        joined.assign(a);
        joined.append(b.size() >= prefixLen ? std::string_view(b).substr(prefixLen) : std::string_view());
        const std::int32_t* in = vocab_.find(joined);
        if (!in)
            throw Error("merge \"" + a + " " + b + "\" makes \"" + joined + "\", which is not in the vocabulary",
                        {.file = source, .item = field()});
        merges_.insertOrAssign(*ia, *ib, {static_cast<std::uint32_t>(rank), *in});
    }

    // Cutting long words before "▁" is exact when a word's symbols never merge across the cut: the
    // left symbol ends with a character other than "▁", the right one starts with "▁", so no merge
    // (a, b) may have b starting with "▁" while a does not end with it. "▁" must be a token (else
    // unknown characters could fuse across the cut) and words must not get a prefix or suffix.
    const std::string meta = "\xE2\x96\x81"; // U+2581
    bool cuttable = vocab_.find(meta) && !options_.continuingSubwordPrefix && !options_.endOfWordSuffix;
    for (std::size_t rank = 0; cuttable && rank < merges.size(); ++rank) {
        const auto& [a, b] = merges[rank];
        const bool bStarts = b.compare(0, meta.size(), meta) == 0;
        const bool aEnds = a.size() >= meta.size() && a.compare(a.size() - meta.size(), meta.size(), meta) == 0;
        if (bStarts && !aEnds)
            cuttable = false;
    }
    if (cuttable)
        cutBefore_ = meta;
}

std::optional<std::int32_t> BpeModel::tokenToId(std::string_view token) const
{
    if (const std::int32_t* id = vocab_.find(token))
        return *id;
    return std::nullopt;
}

const std::string* BpeModel::idToToken(std::int32_t id) const
{
    if (id < 0 || static_cast<std::size_t>(id) >= idToToken_.size())
        return nullptr;
    const std::string& s = idToToken_[static_cast<std::size_t>(id)];
    if (s.empty() && !vocab_.find(s))
        return nullptr;
    return &s;
}

void BpeModel::tokenize(const Piece& word, std::vector<WordToken>& out) const
{
    if (word.text.empty())
        return;
    if (word.byteLevel)
        tokenizeBytes(word.text, out);
    else
        tokenizeChars(word.text, out);
}

void BpeModel::tokenizeBytes(std::string_view bytes, std::vector<WordToken>& out) const
{
    if (options_.ignoreMerges) {
        if (const std::int32_t* id = rawVocab_.find(bytes)) {
            out.push_back({*id, 0, static_cast<std::uint32_t>(bytes.size())});
            return;
        }
    }
    WordCache& cache = cacheFor(serial_);
    if (lookupCache(cache, 0, bytes, out))
        return;
    Scratch& s = scratch();
    s.symbols.clear();
    const auto n = static_cast<std::int32_t>(bytes.size());
    for (std::int32_t i = 0; i < n; ++i)
        s.symbols.push_back({byteIds_[static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)])], i - 1,
                             i + 1 < n ? i + 1 : -1, 1});
    mergeAll(s);
    const std::size_t first = out.size();
    emit(s, out);
    storeCache(cache, 0, bytes, out.data() + first, out.size() - first);
}

void BpeModel::tokenizeChars(std::string_view text, std::vector<WordToken>& out) const
{
    if (options_.ignoreMerges) {
        if (const std::int32_t* id = vocab_.find(text)) {
            out.push_back({*id, 0, static_cast<std::uint32_t>(text.size())});
            return;
        }
    }
    if (cutBefore_.empty() || text.size() <= kCutWordsLongerThan) {
        tokenizeCharsChunk(text, out);
        return;
    }
    std::size_t chunkStart = 0;
    std::size_t pos = text.find(cutBefore_, 1);
    while (pos != std::string_view::npos) {
        const bool afterMeta = pos >= cutBefore_.size() &&
                               text.compare(pos - cutBefore_.size(), cutBefore_.size(), cutBefore_) == 0;
        if (!afterMeta && pos > chunkStart) {
            const std::size_t first = out.size();
            tokenizeCharsChunk(text.substr(chunkStart, pos - chunkStart), out);
            for (std::size_t k = first; k < out.size(); ++k) {
                out[k].begin += static_cast<std::uint32_t>(chunkStart);
                out[k].end += static_cast<std::uint32_t>(chunkStart);
            }
            chunkStart = pos;
        }
        pos = text.find(cutBefore_, pos + cutBefore_.size());
    }
    const std::size_t first = out.size();
    tokenizeCharsChunk(text.substr(chunkStart), out);
    for (std::size_t k = first; k < out.size(); ++k) {
        out[k].begin += static_cast<std::uint32_t>(chunkStart);
        out[k].end += static_cast<std::uint32_t>(chunkStart);
    }
}

// One word (or one cut of a long word) through the word cache and the merge loop.
void BpeModel::tokenizeCharsChunk(std::string_view text, std::vector<WordToken>& out) const
{
    WordCache& cache = cacheFor(serial_);
    if (lookupCache(cache, 1, text, out))
        return;
    Scratch& s = scratch();
    buildCharSymbols(text, s);
    mergeAll(s);
    const std::size_t first = out.size();
    emit(s, out);
    storeCache(cache, 1, text, out.data() + first, out.size() - first);
}

// BPE::merge_word's first half: one symbol per character (with the continuing-subword prefix and
// end-of-word suffix), byte fallback, and (fused) unknown tokens.
void BpeModel::buildCharSymbols(std::string_view text, Scratch& s) const
{
    s.symbols.clear();
    auto add = [&](std::int32_t id, std::uint32_t len) {
        const auto idx = static_cast<std::int32_t>(s.symbols.size());
        if (!s.symbols.empty())
            s.symbols.back().next = idx;
        s.symbols.push_back({id, idx - 1, -1, len});
    };
    bool haveUnk = false; // a pending unknown token: (unkId_, unkLen)
    std::uint32_t unkLen = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t start = i;
        std::size_t len = static_cast<std::size_t>(utf8::sequenceLength(static_cast<unsigned char>(text[i])));
        len = std::min(len, text.size() - i);
        i += len;
        const bool isFirst = start == 0, isLast = i >= text.size();
        const std::string_view ch = text.substr(start, len);
        std::string_view key = ch;
        if ((!isFirst && options_.continuingSubwordPrefix) || (isLast && options_.endOfWordSuffix)) {
            s.key.clear();
            if (!isFirst && options_.continuingSubwordPrefix)
                s.key += *options_.continuingSubwordPrefix;
            s.key += ch;
            if (isLast && options_.endOfWordSuffix)
                s.key += *options_.endOfWordSuffix;
            key = s.key;
        }
        if (const std::int32_t* id = vocab_.find(key)) {
            if (haveUnk) {
                add(*unkId_, unkLen);
                haveUnk = false;
            }
            add(*id, static_cast<std::uint32_t>(len));
            continue;
        }
        if (options_.byteFallback) {
            bool all = true;
            for (char b : key)
                all = all && byteFallbackIds_[static_cast<unsigned char>(b)] >= 0;
            if (all) {
                for (char b : key)
                    add(byteFallbackIds_[static_cast<unsigned char>(b)], 1);
                continue;
            }
        }
        if (options_.unkToken) {
            if (!unkId_)
                throw Error("the unk_token \"" + *options_.unkToken + "\" is not in the vocabulary");
            if (haveUnk && options_.fuseUnk) {
                unkLen += static_cast<std::uint32_t>(len);
            } else {
                if (haveUnk)
                    add(*unkId_, unkLen);
                haveUnk = true;
                unkLen = static_cast<std::uint32_t>(len);
            }
        }
    }
    if (haveUnk)
        add(*unkId_, unkLen);
}

// Word::merge_all without dropout.
void BpeModel::mergeAll(Scratch& s) const
{
    auto& sym = s.symbols;
    auto& heap = s.heap;
    heap.clear();
    const auto later = [](const Scratch::Entry& a, const Scratch::Entry& b) {
        return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    };
    for (std::size_t i = 0; i + 1 < sym.size(); ++i)
        if (const MergeValue* m = merges_.find(sym[i].id, sym[i + 1].id))
            heap.push_back({m->rank, static_cast<std::uint32_t>(i), m->newId});
    std::make_heap(heap.begin(), heap.end(), later);
    const auto n = static_cast<std::int32_t>(sym.size());
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), later);
        const Scratch::Entry top = heap.back();
        heap.pop_back();
        Symbol& cur = sym[top.pos];
        if (cur.len == 0 || cur.next == -1)
            continue;
        const std::int32_t nextPos = cur.next;
        const Symbol right = sym[static_cast<std::size_t>(nextPos)];
        const MergeValue* m = merges_.find(cur.id, right.id);
        if (!m || m->newId != top.newId)
            continue; // a stale entry
        cur.id = top.newId;
        cur.len += right.len;
        cur.next = right.next;
        sym[static_cast<std::size_t>(nextPos)].len = 0;
        if (right.next > -1 && right.next < n)
            sym[static_cast<std::size_t>(right.next)].prev = static_cast<std::int32_t>(top.pos);
        if (cur.prev >= 0) {
            const Symbol& prev = sym[static_cast<std::size_t>(cur.prev)];
            if (const MergeValue* pm = merges_.find(prev.id, cur.id)) {
                heap.push_back({pm->rank, static_cast<std::uint32_t>(cur.prev), pm->newId});
                std::push_heap(heap.begin(), heap.end(), later);
            }
        }
        if (cur.next >= 0 && cur.next < n) {
            const Symbol& next = sym[static_cast<std::size_t>(cur.next)];
            if (const MergeValue* nm = merges_.find(cur.id, next.id)) {
                heap.push_back({nm->rank, top.pos, nm->newId});
                std::push_heap(heap.begin(), heap.end(), later);
            }
        }
    }
}

void BpeModel::emit(const Scratch& s, std::vector<WordToken>& out) const
{
    std::uint32_t pos = 0;
    for (const Symbol& x : s.symbols) {
        if (x.len == 0)
            continue;
        out.push_back({x.id, pos, pos + x.len});
        pos += x.len;
    }
}

BpeModel::Scratch& BpeModel::scratch()
{
    thread_local Scratch s;
    return s;
}

} // namespace blocklens::tok
