// Tokenizer: the encode/decode pipeline of the `tokenizers` library over the components built by
// json_loader.cpp:
//   added tokens (raw) -> normalizer -> added tokens (normalized) -> pre-tokenizer -> BPE model
//   -> byte spans mapped to the original text -> code points -> post-processor.
#include "tokenizer/tokenizer.hpp"

#include "tokenizer/tokenizer_impl.hpp"
#include "util/error.hpp"
#include "util/files.hpp"
#include "util/utf8.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <algorithm>

namespace blocklens {
namespace {

// BytesToCharOffsetConverter of the library: byte offset -> index of the character holding it.
// Spans arrive almost in order, but every byte-level token inside a multi-byte character starts
// before the previous token ended, so the cursor also moves backwards: a short step back walks
// the bytes, a long one restarts from the checkpoint (a character count recorded every kBlock
// bytes as the cursor first passes) below the target. Each call costs O(kBlock + distance
// moved), so converting all spans is linear in the text and the number of tokens.
class ByteToChar {
public:
    explicit ByteToChar(std::string_view text) : text_(text) { checkpoints_.push_back(0); }

    std::size_t at(std::size_t b)
    {
        const auto* s = reinterpret_cast<const unsigned char*>(text_.data());
        if (b < pos_) {
            if (pos_ - b <= kBlock) {
                while (pos_ > b) {
                    --pos_;
                    count_ -= (s[pos_] & 0xC0) != 0x80;
                }
            } else {
                pos_ = (b / kBlock) * kBlock;
                count_ = checkpoints_[b / kBlock];
            }
        }
        while (pos_ < b) {
            count_ += (s[pos_] & 0xC0) != 0x80;
            ++pos_;
            if (pos_ % kBlock == 0 && pos_ / kBlock == checkpoints_.size())
                checkpoints_.push_back(count_);
        }
        return (s[b] & 0xC0) == 0x80 ? count_ - 1 : count_;
    }

    // Returns false when the library leaves the offsets in bytes (start past the end).
    bool convert(std::size_t& begin, std::size_t& end)
    {
        const std::size_t n = text_.size();
        if (begin >= n)
            return false;
        const std::size_t b = at(begin);
        std::size_t e;
        if (end < n)
            e = at(end);
        else if (end - 1 < n)
            e = at(end - 1) + 1;
        else
            e = b + 2;
        begin = b;
        end = e;
        return true;
    }

private:
    static constexpr std::size_t kBlock = 256;
    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t count_ = 0;
    std::vector<std::size_t> checkpoints_; // [k]: characters starting in bytes [0, k * kBlock)
};

std::string readFile(const std::filesystem::path& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw Error("is a folder; give the tokenizer.json file inside it", {.file = path.string()});
    requireRegularFile(path, "tokenizer");
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in)
        throw Error(std::string("cannot open the tokenizer file: ") + std::strerror(errno), {.file = path.string()});
    const std::streamoff size = in.tellg();
    std::string bytes(static_cast<std::size_t>(std::max<std::streamoff>(size, 0)), '\0');
    in.seekg(0);
    if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
        throw Error("cannot read the tokenizer file", {.file = path.string()});
    return bytes;
}

} // namespace

std::string Tokenizer::Impl::normalizeText(std::string_view text) const
{
    if (!normalizer || text.empty())
        return std::string(text);
    tok::Arena arena;
    tok::Piece root{text, nullptr, 0, static_cast<std::uint32_t>(text.size())};
    return std::string(normalizer->normalize(root, arena).text);
}

std::string Tokenizer::Impl::tokenText(std::int32_t id) const
{
    if (const tok::AddedToken* a = added.byId(id))
        return a->content;
    if (const std::string* s = model->idToToken(id))
        return *s;
    return {};
}

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::fromFile(const std::filesystem::path& path)
{
    return fromJson(readFile(path), path.string());
}

Tokenizer Tokenizer::fromJson(std::string_view json, const std::string& sourceName)
{
    return Tokenizer(tok::loadTokenizerJson(json, sourceName));
}

Encoding Tokenizer::encode(std::string_view text, bool addSpecialTokens) const
{
    const Impl& im = *impl_;
    if (const std::size_t bad = utf8::findInvalid(text); bad != std::string_view::npos)
        throw Error("the text to encode is not valid UTF-8", {.byteOffset = static_cast<std::int64_t>(bad)});
    if (text.size() >= 0xFFFFFFF0u)
        throw Error("the text to encode is too long (4 GiB or more)");

    thread_local tok::Arena arena;
    arena.reset();
    // Per-thread buffers, as the arena's (see splitEach): freed after the call when very large.
    thread_local std::vector<tok::Piece> pieces, next;
    pieces.clear();
    const tok::Piece root{text, nullptr, 0, static_cast<std::uint32_t>(text.size())};
    im.added.split(root, false, pieces);

    if (im.normalizer || im.added.hasNormalizedTokens()) {
        next.clear();
        next.reserve(pieces.size());
        for (const tok::Piece& p : pieces) {
            if (p.isToken()) {
                next.push_back(p);
                continue;
            }
            im.added.split(im.normalizer ? im.normalizer->normalize(p, arena) : p, true, next);
        }
        pieces.swap(next);
        tok::releaseIfLarge(next);
    }
    if (im.preTokenizer)
        im.preTokenizer->apply(pieces, arena);

    Encoding enc;
    enc.ids.reserve(pieces.size() + pieces.size() / 4);
    enc.spans.reserve(enc.ids.capacity());
    std::vector<tok::WordToken> word;
    for (const tok::Piece& p : pieces) {
        if (p.isToken()) {
            const tok::Align a = p.originalRange(0, p.text.size());
            enc.ids.push_back(p.addedId);
            enc.spans.push_back({a.begin, a.end});
            continue;
        }
        word.clear();
        im.model->tokenize(p, word);
        for (const tok::WordToken& t : word) {
            enc.ids.push_back(t.id);
            if (t.begin < t.end && t.end <= p.text.size()) {
                const tok::Align a = p.originalRange(t.begin, t.end);
                enc.spans.push_back({a.begin, a.end});
            } else if (t.begin >= t.end) { // convert_offsets keeps an empty range as it is
                enc.spans.push_back({p.origBegin + t.begin, p.origBegin + t.end});
            } else { // past the word (a prefix/suffix in byte fallback): the library keeps them raw
                enc.spans.push_back({t.begin, t.end});
            }
        }
    }

    tok::releaseIfLarge(pieces);

    ByteToChar conv(text);
    for (TokenSpan& s : enc.spans)
        conv.convert(s.begin, s.end);

    if (im.postProcessor)
        im.postProcessor->process(enc, addSpecialTokens, [&im](std::int32_t id) { return im.tokenText(id); });
    return enc;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skipSpecialTokens) const
{
    const Impl& im = *impl_;
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (std::int32_t id : ids) {
        std::string s;
        if (const tok::AddedToken* a = im.added.byId(id))
            s = a->content;
        else if (const std::string* m = im.model->idToToken(id))
            s = *m;
        else
            continue;
        if (skipSpecialTokens && im.added.isSpecialContent(s))
            continue;
        tokens.push_back(std::move(s));
    }
    std::string out;
    if (im.decoder) {
        im.decoder->decodeChain(tokens);
        for (const std::string& t : tokens)
            out += t;
    } else {
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            if (i)
                out += ' ';
            out += tokens[i];
        }
    }
    return out;
}

std::size_t Tokenizer::vocabSize() const
{
    std::int32_t maxId = impl_->model->maxId();
    for (const auto& t : impl_->added.tokens())
        maxId = std::max(maxId, t.id);
    return static_cast<std::size_t>(maxId + 1);
}

std::optional<std::int32_t> Tokenizer::tokenToId(std::string_view token) const
{
    if (auto id = impl_->added.idOf(token))
        return id;
    return impl_->model->tokenToId(token);
}

std::string Tokenizer::idToToken(std::int32_t id) const { return impl_->tokenText(id); }

const std::string& Tokenizer::contentHash() const { return impl_->contentHash; }

std::string Tokenizer::describe() const { return impl_->description; }

} // namespace blocklens
