#include "tokenizer/json_reader.hpp"

#include "util/json_input.hpp"

namespace blocklens::tok {
namespace {

using json = nlohmann::json;

// A DOM-building SAX handler (as nlohmann's own) that diverts model.vocab and model.merges.
class Reader final : public nlohmann::json_sax<json> {
public:
    explicit Reader(TokenizerJson& out) : out_(out) {}

    bool null() override { return value(json(nullptr)); }
    bool boolean(bool v) override { return value(json(v)); }
    bool number_integer(number_integer_t v) override
    {
        if (mode() == Mode::Vocab) {
            out_.vocab.emplace_back(std::move(key_), static_cast<std::int64_t>(v));
            return true;
        }
        return value(json(v));
    }
    bool number_unsigned(number_unsigned_t v) override
    {
        if (mode() == Mode::Vocab) {
            out_.vocab.emplace_back(std::move(key_),
                                    v > static_cast<number_unsigned_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(v));
            return true;
        }
        return value(json(v));
    }
    bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
    bool string(string_t& v) override
    {
        switch (mode()) {
        case Mode::Merges: {
            const std::size_t sp = v.find(' ');
            if (sp == std::string::npos || v.find(' ', sp + 1) != std::string::npos)
                streamError(mergeField(), "merge \"" + v + "\" must be two tokens separated by one space");
            else
                out_.merges.emplace_back(v.substr(0, sp), v.substr(sp + 1));
            ++mergeIndex_;
            return true;
        }
        case Mode::MergePair:
            pair_.push_back(std::move(v));
            return true;
        default:
            return value(json(std::move(v)));
        }
    }
    bool binary(binary_t& v) override { return value(json(std::move(v))); }

    bool start_object(std::size_t) override
    {
        if (mode() != Mode::None && mode() != Mode::Model) {
            badEntry();
            frames_.push_back({nullptr, true, Mode::Skip});
            return true;
        }
        if (frames_.size() == 1 && pendingKey_ == "model") {
            json* node = place(json::object());
            frames_.push_back({node, true, Mode::Model});
            return true;
        }
        if (mode() == Mode::Model && pendingKey_ == "vocab") {
            out_.vocabStreamed = true;
            frames_.push_back({nullptr, true, Mode::Vocab});
            return true;
        }
        json* node = place(json::object());
        frames_.push_back({node, true, Mode::None});
        return true;
    }
    bool key(string_t& k) override
    {
        if (mode() == Mode::Vocab) {
            key_ = std::move(k);
            return true;
        }
        pendingKey_ = k;
        if (!frames_.empty() && frames_.back().node)
            objectElement_ = &(*frames_.back().node)[k];
        return true;
    }
    bool end_object() override
    {
        if (!frames_.empty())
            frames_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override
    {
        if (mode() == Mode::Merges) {
            pair_.clear();
            frames_.push_back({nullptr, false, Mode::MergePair});
            return true;
        }
        if (mode() != Mode::None && mode() != Mode::Model) {
            badEntry();
            frames_.push_back({nullptr, false, Mode::Skip});
            return true;
        }
        if (mode() == Mode::Model && pendingKey_ == "merges") {
            out_.mergesStreamed = true;
            frames_.push_back({nullptr, false, Mode::Merges});
            return true;
        }
        json* node = place(json::array());
        frames_.push_back({node, false, Mode::None});
        return true;
    }
    bool end_array() override
    {
        if (frames_.empty())
            return true;
        const Mode m = frames_.back().mode;
        frames_.pop_back();
        if (m == Mode::MergePair) {
            if (pair_.size() == 2)
                out_.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
            else
                streamError(mergeField(), "a merge must be \"a b\" or [\"a\", \"b\"]");
            ++mergeIndex_;
        }
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override
    {
        out_.syntaxError = std::pair{std::string(ex.what()), position};
        return false;
    }

private:
    enum class Mode { None, Model, Vocab, Merges, MergePair, Skip };
    struct Frame {
        json* node; // null while streaming
        bool isObject;
        Mode mode;
    };

    Mode mode() const { return frames_.empty() ? Mode::None : frames_.back().mode; }

    std::string mergeField() const { return "model.merges[" + std::to_string(mergeIndex_) + "]"; }

    void streamError(std::string field, std::string message)
    {
        if (!out_.streamError)
            out_.streamError = std::pair{std::move(field), std::move(message)};
    }

    void badEntry()
    {
        if (mode() == Mode::Vocab)
            streamError("model.vocab[\"" + key_ + "\"]", "token ids must be integers");
        else if (mode() == Mode::Merges || mode() == Mode::MergePair)
            streamError(mergeField(), "a merge must be \"a b\" or [\"a\", \"b\"]");
    }

    bool value(json v)
    {
        switch (mode()) {
        case Mode::Vocab:
            streamError("model.vocab[\"" + key_ + "\"]", "token ids must be integers");
            return true;
        case Mode::Merges:
            streamError(mergeField(), "a merge must be \"a b\" or [\"a\", \"b\"]");
            ++mergeIndex_;
            return true;
        case Mode::MergePair:
            pair_.emplace_back(); // not a string: makes the pair invalid
            pair_.emplace_back();
            return true;
        case Mode::Skip:
            return true;
        default:
            place(std::move(v));
            return true;
        }
    }

    // Puts a value where the DOM expects the next one; returns it.
    json* place(json v)
    {
        if (frames_.empty()) {
            out_.root = std::move(v);
            return &out_.root;
        }
        Frame& f = frames_.back();
        if (!f.node)
            return nullptr;
        if (f.isObject) {
            *objectElement_ = std::move(v);
            return objectElement_;
        }
        f.node->push_back(std::move(v));
        return &f.node->back();
    }

    TokenizerJson& out_;
    std::vector<Frame> frames_;
    json* objectElement_ = nullptr;
    std::string pendingKey_;
    std::string key_;
    std::vector<std::string> pair_;
    std::size_t mergeIndex_ = 0;
};

} // namespace

TokenizerJson readTokenizerJson(std::string_view text)
{
    TokenizerJson out;
    // The one depth limit of JSON input (util/json_input): the loader walks the DOM recursively
    // (nested Sequence components), and the frames below never outgrow it.
    if (const auto deep = findExcessiveJsonNesting(text)) {
        out.syntaxError = std::pair{jsonNestingMessage(), *deep};
        return out;
    }
    out.vocab.reserve(text.size() / 64);
    out.merges.reserve(text.size() / 40);
    Reader reader(out);
    json::sax_parse(text.begin(), text.end(), &reader);
    if (out.syntaxError)
        out.root = nullptr;
    return out;
}

} // namespace blocklens::tok
