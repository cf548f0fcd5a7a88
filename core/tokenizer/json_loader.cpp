// Builds a Tokenizer::Impl from tokenizer.json. Every failure throws Error naming the file and
// the JSON field (e.g. "model.merges[12]", "pre_tokenizer.pretokenizers[0].pattern").
#include "tokenizer/json_reader.hpp"
#include "tokenizer/tokenizer_impl.hpp"

#include "util/error.hpp"
#include "util/sha256.hpp"
#include "util/utf8.hpp"

#include <nlohmann/json.hpp>

namespace blocklens::tok {
namespace {

using json = nlohmann::json;

// The most components of one kind (normalizers, pre-tokenizers, post-processors, decoders) a
// tokenizer.json may hold, nested Sequences and their items included. Real files use fewer than
// ten; every component costs a pass over the text on each encode, and a file with thousands of
// them is an attack, not a tokenizer.
constexpr std::size_t kMaxComponents = 256;
// The most items of a post-processor template and ids of one special token.
constexpr std::size_t kMaxTemplateItems = 256;

// The JSON path of a field ("pre_tokenizer.pretokenizers[3].pattern"), built only when an error
// needs it: a chain of parent links on the stack, so nested Sequences cost nothing per level.
class Path {
public:
    Path(const char* root) : root_(root) {}
    Path(const std::string& root) : root_(root) {}
    Path child(std::string_view key) const { return Path(this, key, 0); }
    Path at(std::size_t index) const { return Path(this, {}, index); }

    std::string str() const
    {
        std::vector<const Path*> chain;
        for (const Path* p = this; p; p = p->parent_)
            chain.push_back(p);
        std::string s(chain.back()->root_);
        for (auto it = chain.rbegin() + 1; it != chain.rend(); ++it) {
            if ((*it)->key_.data()) {
                if (!s.empty())
                    s += '.';
                s += (*it)->key_;
            } else {
                s += "[" + std::to_string((*it)->index_) + "]";
            }
        }
        return s;
    }

private:
    Path(const Path* parent, std::string_view key, std::size_t index) : parent_(parent), key_(key), index_(index) {}
    const Path* parent_ = nullptr;
    std::string_view root_;
    std::string_view key_; // null data(): an index
    std::size_t index_ = 0;
};

class Loader {
public:
    explicit Loader(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(const Path& field, const std::string& message) const
    {
        throw Error(message, {.file = source_, .item = field.str()});
    }
    [[noreturn]] void unsupported(const Path& field, const std::string& what) const
    {
        fail(field, what + " is not supported (BlockLens supports BPE tokenizers: byte-level like Llama 3 and "
                           "Qwen, and metaspace/byte-fallback like Llama 2 and Mistral)");
    }

    const json& object(const json& parent, const char* key, const Path& path) const
    {
        auto it = parent.find(key);
        if (it == parent.end())
            fail(path, std::string("missing field \"") + key + "\"");
        if (!it->is_object())
            fail(join(path, key), "must be a JSON object");
        return *it;
    }
    std::string string(const json& obj, const char* key, const Path& path) const
    {
        auto it = obj.find(key);
        if (it == obj.end())
            fail(path, std::string("missing field \"") + key + "\"");
        if (!it->is_string())
            fail(join(path, key), "must be a string");
        return it->get<std::string>();
    }
    std::optional<std::string> optString(const json& obj, const char* key, const Path& path) const
    {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null())
            return std::nullopt;
        if (!it->is_string())
            fail(join(path, key), "must be a string or null");
        return it->get<std::string>();
    }
    bool boolean(const json& obj, const char* key, const Path& path, bool fallback) const
    {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null())
            return fallback;
        if (!it->is_boolean())
            fail(join(path, key), "must be true or false");
        return it->get<bool>();
    }
    std::int64_t integer(const json& obj, const char* key, const Path& path) const
    {
        auto it = obj.find(key);
        if (it == obj.end())
            fail(path, std::string("missing field \"") + key + "\"");
        if (!it->is_number_integer())
            fail(join(path, key), "must be an integer");
        return it->get<std::int64_t>();
    }
    const json& array(const json& obj, const char* key, const Path& path) const
    {
        auto it = obj.find(key);
        if (it == obj.end())
            fail(path, std::string("missing field \"") + key + "\"");
        if (!it->is_array())
            fail(join(path, key), "must be a JSON array");
        return *it;
    }
    std::string type(const json& obj, const Path& path) const
    {
        if (!obj.is_object())
            fail(path, "must be a JSON object");
        return string(obj, "type", path);
    }
    char32_t singleChar(const json& obj, const char* key, const Path& path) const
    {
        const std::string s = string(obj, key, path);
        const std::u32string u = utf8::toUtf32(s);
        if (u.size() != 1)
            fail(join(path, key), "must be exactly one character");
        return u[0];
    }
    static Path join(const Path& path, std::string_view key) { return path.child(key); }
    static Path index(const Path& path, std::size_t i) { return path.at(i); }

    // Counts one more component of a kind, refusing more than kMaxComponents in the file.
    void countComponent(std::size_t& count, const char* kind, const Path& path) const
    {
        if (++count > kMaxComponents)
            fail(path, std::string("more than ") + std::to_string(kMaxComponents) + " " + kind +
                           " (nested Sequences included); the limit is " + std::to_string(kMaxComponents));
    }
    // A Sequence's list, refused up front when longer than the limit.
    const json& sequenceList(const json& obj, const char* key, const Path& path, const char* kind) const
    {
        const json& list = array(obj, key, path);
        if (list.size() > kMaxComponents)
            fail(join(path, key), "a Sequence of " + std::to_string(list.size()) + " " + kind +
                                      "; the limit is " + std::to_string(kMaxComponents));
        return list;
    }
    // A token id of a post-processor: an integer that names a token of the vocabulary.
    std::int32_t tokenId(const json& v, const Path& field, const Tokenizer::Impl& impl) const
    {
        if (!v.is_number_integer())
            fail(field, "token ids must be integers");
        const bool tooBig = v.is_number_unsigned() && v.get<std::uint64_t>() > 0x7FFFFFFFu;
        const std::int64_t id = tooBig ? INT64_MAX : v.get<std::int64_t>();
        const bool known = id >= 0 && id <= INT32_MAX &&
                           (impl.model->idToToken(static_cast<std::int32_t>(id)) ||
                            impl.added.byId(static_cast<std::int32_t>(id)));
        if (!known)
            fail(field, "token id " + (tooBig ? v.dump() : std::to_string(id)) +
                            " is not in the vocabulary (ids must name a token of the model or an added token)");
        return static_cast<std::int32_t>(id);
    }

    // {"String": s} or {"Regex": r}
    Regex pattern(const json& obj, const Path& path) const
    {
        const json& p = object(obj, "pattern", path);
        const std::string where = join(path, "pattern").str();
        if (auto it = p.find("String"); it != p.end() && it->is_string())
            return Regex::literal(it->get<std::string>(), where);
        if (auto it = p.find("Regex"); it != p.end() && it->is_string()) {
            try {
                return Regex::compile(it->get<std::string>(), where);
            } catch (const Error& e) {
                fail(where, e.message());
            }
        }
        fail(where, "must be {\"String\": ...} or {\"Regex\": ...}");
    }

    std::unique_ptr<Normalizer> normalizer(const json& n, const Path& path) const;
    std::unique_ptr<PreTokenizer> preTokenizer(const json& p, const Path& path, bool rawBytes, bool last,
                                               bool& byteLevel) const;
    std::unique_ptr<Decoder> decoder(const json& d, const Path& path) const;
    std::unique_ptr<PostProcessor> postProcessor(const json& p, const Path& path, const Tokenizer::Impl& impl) const;
    std::unique_ptr<BpeModel> model(const json& m, const Path& path, TokenizerJson& streamed) const;
    std::vector<AddedToken> addedTokens(const json& root) const;

private:
    const std::string& source_;
    mutable std::size_t normalizers_ = 0, preTokenizers_ = 0, postProcessors_ = 0, decoders_ = 0;
};

std::unique_ptr<Normalizer> Loader::normalizer(const json& n, const Path& path) const
{
    countComponent(normalizers_, "normalizers", path);
    const std::string t = type(n, path);
    if (t == "Sequence") {
        const json& list = sequenceList(n, "normalizers", path, "normalizers");
        std::vector<std::unique_ptr<Normalizer>> steps;
        for (std::size_t i = 0; i < list.size(); ++i)
            steps.push_back(normalizer(list[i], index(join(path, "normalizers"), i)));
        return std::make_unique<SequenceNormalizer>(std::move(steps));
    }
    if (t == "NFC") return std::make_unique<UnicodeNormalizer>(unicode::Form::NFC);
    if (t == "NFD") return std::make_unique<UnicodeNormalizer>(unicode::Form::NFD);
    if (t == "NFKC") return std::make_unique<UnicodeNormalizer>(unicode::Form::NFKC);
    if (t == "NFKD") return std::make_unique<UnicodeNormalizer>(unicode::Form::NFKD);
    if (t == "Prepend") return std::make_unique<PrependNormalizer>(string(n, "prepend", path));
    if (t == "Append") return std::make_unique<AppendNormalizer>(string(n, "append", path));
    if (t == "Replace") return std::make_unique<ReplaceNormalizer>(pattern(n, path), string(n, "content", path));
    if (t == "Strip")
        return std::make_unique<StripNormalizer>(boolean(n, "strip_left", path, true), boolean(n, "strip_right", path, true));
    unsupported(join(path, "type"), "the normalizer \"" + t + "\"");
}

std::unique_ptr<PreTokenizer> Loader::preTokenizer(const json& p, const Path& path, bool rawBytes, bool last,
                                                   bool& byteLevel) const
{
    countComponent(preTokenizers_, "pre-tokenizers", path);
    const std::string t = type(p, path);
    if (t == "Sequence") {
        const json& list = sequenceList(p, "pretokenizers", path, "pre-tokenizers");
        std::vector<std::unique_ptr<PreTokenizer>> steps;
        for (std::size_t i = 0; i < list.size(); ++i)
            steps.push_back(preTokenizer(list[i], index(join(path, "pretokenizers"), i), rawBytes,
                                         last && i + 1 == list.size(), byteLevel));
        return std::make_unique<SequencePreTokenizer>(std::move(steps));
    }
    if (t == "Split") {
        const std::string b = string(p, "behavior", path);
        SplitBehavior behavior;
        if (b == "Removed") behavior = SplitBehavior::Removed;
        else if (b == "Isolated") behavior = SplitBehavior::Isolated;
        else if (b == "MergedWithPrevious") behavior = SplitBehavior::MergedWithPrevious;
        else if (b == "MergedWithNext") behavior = SplitBehavior::MergedWithNext;
        else if (b == "Contiguous") behavior = SplitBehavior::Contiguous;
        else fail(join(path, "behavior"), "unknown split behavior \"" + b + "\"");
        return std::make_unique<SplitPreTokenizer>(pattern(p, path), behavior, boolean(p, "invert", path, false));
    }
    if (t == "ByteLevel") {
        byteLevel = true;
        // Raw-byte words need the model to know every byte and nothing to look at the text after.
        return std::make_unique<ByteLevelPreTokenizer>(boolean(p, "add_prefix_space", path, true),
                                                       boolean(p, "use_regex", path, true), rawBytes && last);
    }
    if (t == "Metaspace") {
        const char32_t replacement = singleChar(p, "replacement", path);
        PrependScheme scheme = PrependScheme::Always;
        if (auto s = optString(p, "prepend_scheme", path)) {
            if (*s == "always") scheme = PrependScheme::Always;
            else if (*s == "first") scheme = PrependScheme::First;
            else if (*s == "never") scheme = PrependScheme::Never;
            else fail(join(path, "prepend_scheme"), "must be \"always\", \"first\" or \"never\"");
        }
        if (!boolean(p, "add_prefix_space", path, true))
            scheme = PrependScheme::Never;
        return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, boolean(p, "split", path, true));
    }
    if (t == "Digits")
        return std::make_unique<DigitsPreTokenizer>(boolean(p, "individual_digits", path, false));
    if (t == "Whitespace")
        return std::make_unique<WhitespacePreTokenizer>(false);
    if (t == "WhitespaceSplit")
        return std::make_unique<WhitespacePreTokenizer>(true);
    unsupported(join(path, "type"), "the pre-tokenizer \"" + t + "\"");
}

std::unique_ptr<Decoder> Loader::decoder(const json& d, const Path& path) const
{
    countComponent(decoders_, "decoders", path);
    const std::string t = type(d, path);
    if (t == "Sequence") {
        const json& list = sequenceList(d, "decoders", path, "decoders");
        std::vector<std::unique_ptr<Decoder>> steps;
        for (std::size_t i = 0; i < list.size(); ++i)
            steps.push_back(decoder(list[i], index(join(path, "decoders"), i)));
        return std::make_unique<SequenceDecoder>(std::move(steps));
    }
    if (t == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
    if (t == "Replace") return std::make_unique<ReplaceDecoder>(pattern(d, path), string(d, "content", path));
    if (t == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
    if (t == "Fuse") return std::make_unique<FuseDecoder>();
    if (t == "Strip") {
        const std::int64_t start = integer(d, "start", path), stop = integer(d, "stop", path);
        if (start < 0 || stop < 0)
            fail(path, "\"start\" and \"stop\" must not be negative");
        return std::make_unique<StripDecoder>(singleChar(d, "content", path), static_cast<std::size_t>(start),
                                              static_cast<std::size_t>(stop));
    }
    if (t == "Metaspace") {
        PrependScheme scheme = PrependScheme::Always;
        if (auto s = optString(d, "prepend_scheme", path))
            scheme = *s == "never" ? PrependScheme::Never : *s == "first" ? PrependScheme::First : PrependScheme::Always;
        if (!boolean(d, "add_prefix_space", path, true))
            scheme = PrependScheme::Never;
        return std::make_unique<MetaspaceDecoder>(singleChar(d, "replacement", path), scheme);
    }
    if (t == "BPEDecoder") return std::make_unique<BpeSuffixDecoder>(optString(d, "suffix", path).value_or("</w>"));
    unsupported(join(path, "type"), "the decoder \"" + t + "\"");
}

std::unique_ptr<PostProcessor> Loader::postProcessor(const json& p, const Path& path,
                                                     const Tokenizer::Impl& impl) const
{
    countComponent(postProcessors_, "post-processors", path);
    const std::string t = type(p, path);
    auto pairToken = [&](const char* key) {
        const Path field = join(path, key);
        auto it = p.find(key);
        if (it == p.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string() || !(*it)[1].is_number_integer())
            fail(field, "must be [\"token\", id]");
        return tokenId((*it)[1], field.at(1), impl);
    };
    if (t == "Sequence") {
        const json& list = sequenceList(p, "processors", path, "post-processors");
        std::vector<std::unique_ptr<PostProcessor>> steps;
        for (std::size_t i = 0; i < list.size(); ++i)
            steps.push_back(postProcessor(list[i], index(join(path, "processors"), i), impl));
        return std::make_unique<SequencePostProcessor>(std::move(steps));
    }
    if (t == "ByteLevel")
        return std::make_unique<ByteLevelPostProcessor>(boolean(p, "trim_offsets", path, true),
                                                        boolean(p, "add_prefix_space", path, true));
    if (t == "TemplateProcessing") {
        const Path singlePath = join(path, "single");
        auto it = p.find("single");
        if (it == p.end())
            fail(path, "missing field \"single\"");
        const json* specials = nullptr;
        if (auto s = p.find("special_tokens"); s != p.end() && s->is_object())
            specials = &*s;
        auto specialIds = [&](const std::string& name, const Path& field) {
            std::vector<std::int32_t> ids;
            if (specials) {
                if (auto s = specials->find(name); s != specials->end()) {
                    const Path specialsPath = join(path, "special_tokens");
                    const Path tokenPath = join(specialsPath, name);
                    auto idsIt = s->find("ids");
                    if (idsIt == s->end() || !idsIt->is_array())
                        fail(tokenPath, "needs an \"ids\" array");
                    if (idsIt->size() > kMaxTemplateItems)
                        fail(join(tokenPath, "ids"), std::to_string(idsIt->size()) + " ids; the limit is " +
                                                         std::to_string(kMaxTemplateItems));
                    for (std::size_t k = 0; k < idsIt->size(); ++k)
                        ids.push_back(tokenId((*idsIt)[k], index(join(tokenPath, "ids"), k), impl));
                    return ids;
                }
            }
            fail(field, "the template names \"" + name + "\", which is not in \"special_tokens\"");
        };
        std::vector<TemplatePostProcessor::Item> items;
        if (it->is_string()) { // "[CLS] $A [SEP]"
            std::string s = it->get<std::string>();
            if (s.size() > 16 * kMaxTemplateItems)
                fail(singlePath, "a template of " + std::to_string(s.size()) + " characters; the limit is " +
                                     std::to_string(16 * kMaxTemplateItems));
            std::size_t pos = 0;
            while (pos < s.size()) {
                const std::size_t end = std::min(s.find(' ', pos), s.size());
                std::string piece = s.substr(pos, end - pos);
                pos = end + 1;
                if (piece.empty())
                    continue;
                if (const auto colon = piece.rfind(':'); colon != std::string::npos && colon > 0)
                    piece = piece.substr(0, colon);
                if (piece == "$A" || piece == "$" || piece == "$0")
                    items.push_back({true, {}});
                else if (piece[0] == '$')
                    continue; // the pair sequence never appears in a single template
                else
                    items.push_back({false, specialIds(piece, singlePath)});
            }
        } else if (it->is_array()) {
            if (it->size() > kMaxTemplateItems)
                fail(singlePath, "a template of " + std::to_string(it->size()) + " items; the limit is " +
                                     std::to_string(kMaxTemplateItems));
            for (std::size_t i = 0; i < it->size(); ++i) {
                const json& item = (*it)[i];
                const Path field = index(singlePath, i);
                if (item.contains("Sequence"))
                    items.push_back({true, {}});
                else if (auto sp = item.find("SpecialToken"); sp != item.end() && sp->is_object())
                    items.push_back({false, specialIds(string(*sp, "id", join(field, "SpecialToken")), field)});
                else
                    fail(field, "must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
        } else {
            fail(singlePath, "must be a list or a string");
        }
        return std::make_unique<TemplatePostProcessor>(std::move(items));
    }
    if (t == "BertProcessing") {
        std::vector<TemplatePostProcessor::Item> items{
            {false, {pairToken("cls")}}, {true, {}}, {false, {pairToken("sep")}}};
        return std::make_unique<TemplatePostProcessor>(std::move(items));
    }
    if (t == "RobertaProcessing") {
        std::vector<std::unique_ptr<PostProcessor>> steps;
        steps.push_back(std::make_unique<ByteLevelPostProcessor>(boolean(p, "trim_offsets", path, true),
                                                                 boolean(p, "add_prefix_space", path, true)));
        std::vector<TemplatePostProcessor::Item> items{
            {false, {pairToken("cls")}}, {true, {}}, {false, {pairToken("sep")}}};
        steps.push_back(std::make_unique<TemplatePostProcessor>(std::move(items)));
        return std::make_unique<SequencePostProcessor>(std::move(steps));
    }
    unsupported(join(path, "type"), "the post-processor \"" + t + "\"");
}

std::unique_ptr<BpeModel> Loader::model(const json& m, const Path& path, TokenizerJson& streamed) const
{
    auto present = [&](const char* key) {
        auto it = m.find(key);
        return it != m.end() && !it->is_null();
    };
    std::string t;
    if (auto it = m.find("type"); it != m.end()) {
        if (!it->is_string())
            fail(join(path, "type"), "must be a string");
        t = it->get<std::string>();
    } else if (streamed.mergesStreamed || present("merges")) {
        t = "BPE";
    } else if (auto v = m.find("vocab"); v != m.end() && v->is_array()) {
        t = "Unigram";
    } else if (m.contains("max_input_chars_per_word")) {
        t = "WordPiece";
    } else {
        t = "WordLevel";
    }
    if (t != "BPE")
        unsupported(join(path, "type"), "the model type \"" + t + "\"");

    if (auto d = m.find("dropout"); d != m.end() && !d->is_null()) {
        if (!d->is_number())
            fail(join(path, "dropout"), "must be a number or null");
        if (d->get<double>() > 0)
            unsupported(join(path, "dropout"), "BPE dropout (it makes encoding random)");
    }
    if (streamed.streamError)
        fail(streamed.streamError->first, streamed.streamError->second);

    if (!streamed.vocabStreamed) {
        if (!m.contains("vocab"))
            fail(path, "missing field \"vocab\"");
        fail(join(path, "vocab"), "must be a JSON object");
    }
    std::vector<std::pair<std::string, std::int32_t>> vocab;
    vocab.reserve(streamed.vocab.size());
    for (auto& [token, id] : streamed.vocab) {
        if (id < 0 || id > 100'000'000)
            fail(join(path, "vocab").str() + "[\"" + token + "\"]", "token id " + std::to_string(id) + " is out of range");
        vocab.emplace_back(std::move(token), static_cast<std::int32_t>(id));
    }
    streamed.vocab = {};

    if (!streamed.mergesStreamed && present("merges"))
        fail(join(path, "merges"), "must be a JSON array");
    std::vector<std::pair<std::string, std::string>> merges = std::move(streamed.merges);

    BpeOptions o;
    o.unkToken = optString(m, "unk_token", path);
    o.continuingSubwordPrefix = optString(m, "continuing_subword_prefix", path);
    o.endOfWordSuffix = optString(m, "end_of_word_suffix", path);
    o.fuseUnk = boolean(m, "fuse_unk", path, false);
    o.byteFallback = boolean(m, "byte_fallback", path, false);
    o.ignoreMerges = boolean(m, "ignore_merges", path, false);
    return std::make_unique<BpeModel>(vocab, merges, std::move(o), source_);
}

std::vector<AddedToken> Loader::addedTokens(const json& root) const
{
    std::vector<AddedToken> out;
    auto it = root.find("added_tokens");
    if (it == root.end() || it->is_null())
        return out;
    if (!it->is_array())
        fail("added_tokens", "must be a JSON array");
    for (std::size_t i = 0; i < it->size(); ++i) {
        const json& t = (*it)[i];
        const Path root("added_tokens");
        const Path field = index(root, i);
        if (!t.is_object())
            fail(field, "must be a JSON object");
        AddedToken a;
        const std::int64_t id = integer(t, "id", field);
        if (id < 0 || id > 100'000'000)
            fail(join(field, "id"), "token id " + std::to_string(id) + " is out of range");
        a.id = static_cast<std::int32_t>(id);
        a.content = string(t, "content", field);
        a.special = boolean(t, "special", field, false);
        a.singleWord = boolean(t, "single_word", field, false);
        a.lstrip = boolean(t, "lstrip", field, false);
        a.rstrip = boolean(t, "rstrip", field, false);
        a.normalized = boolean(t, "normalized", field, !a.special);
        out.push_back(std::move(a));
    }
    return out;
}

} // namespace

std::shared_ptr<const Tokenizer::Impl> loadTokenizerJson(std::string_view text, const std::string& source)
{
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        throw Error("the file is empty: not a tokenizer.json", {.file = source});
    TokenizerJson parsed = readTokenizerJson(text);
    if (parsed.syntaxError) {
        const std::size_t at = parsed.syntaxError->second;
        const bool truncated = at >= text.size();
        throw Error(std::string(truncated ? "the JSON ends too early (truncated file?)" : "not valid JSON") + ": " +
                        parsed.syntaxError->first,
                    {.file = source, .byteOffset = static_cast<std::int64_t>(at)});
    }
    const json& root = parsed.root;
    Loader L(source);
    if (!root.is_object())
        L.fail("", "not a tokenizer.json: the top level is not a JSON object");
    if (!root.contains("model")) {
        if (root.contains("model_type") || root.contains("architectures"))
            L.fail("model", "this is a model's config.json (it has \"model_type\"/\"architectures\"), not a "
                            "tokenizer.json; give the tokenizer.json next to it");
        if (root.contains("tokenizer_class") || root.contains("added_tokens_decoder"))
            L.fail("model", "this is a tokenizer_config.json, not a tokenizer.json; give the tokenizer.json "
                            "next to it");
        L.fail("model", "not a tokenizer.json: there is no \"model\" object");
    }
    if (!root.at("model").is_object())
        L.fail("model", "must be a JSON object");

    auto impl = std::make_shared<Tokenizer::Impl>();
    impl->source = source;
    impl->contentHash = Sha256::hex(text);
    impl->model = L.model(root.at("model"), "model", parsed);

    if (auto n = root.find("normalizer"); n != root.end() && !n->is_null())
        impl->normalizer = L.normalizer(*n, "normalizer");
    bool byteLevel = false;
    if (auto p = root.find("pre_tokenizer"); p != root.end() && !p->is_null())
        impl->preTokenizer = L.preTokenizer(*p, "pre_tokenizer", impl->model->byteLevelReady(), true, byteLevel);

    impl->added.build(L.addedTokens(root), [&](const std::string& content) { return impl->normalizeText(content); });

    if (auto p = root.find("post_processor"); p != root.end() && !p->is_null())
        impl->postProcessor = L.postProcessor(*p, "post_processor", *impl);
    if (auto d = root.find("decoder"); d != root.end() && !d->is_null())
        impl->decoder = L.decoder(*d, "decoder");

    std::string kind = byteLevel ? "byte-level BPE" : "BPE";
    if (impl->model->options().byteFallback)
        kind += " with byte fallback";
    std::int32_t maxId = impl->model->maxId();
    for (const auto& t : impl->added.tokens())
        maxId = std::max(maxId, t.id);
    impl->description = kind + ", " + std::to_string(maxId + 1) + " tokens (" +
                        std::to_string(impl->model->mergeCount()) + " merges, " +
                        std::to_string(impl->added.tokens().size()) + " added)";
    return impl;
}

} // namespace blocklens::tok
