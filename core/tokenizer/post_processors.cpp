#include "tokenizer/post_processors.hpp"

#include "tokenizer/regex.hpp"
#include "util/utf8.hpp"

namespace blocklens::tok {

void SequencePostProcessor::process(Encoding& enc, bool addSpecialTokens, const TokenText& tokenText) const
{
    for (const auto& s : steps_)
        s->process(enc, addSpecialTokens, tokenText);
}

void trimByteLevelOffsets(Encoding& enc, bool addPrefixSpace, const TokenText& tokenText)
{
    auto isSpace = [](char32_t c) { return c == 0x120 /* Ġ */ || isWhiteSpace(c); };
    for (std::size_t i = 0; i < enc.ids.size(); ++i) {
        const std::u32string chars = utf8::toUtf32(tokenText(enc.ids[i]));
        std::size_t leading = 0, trailing = 0;
        while (leading < chars.size() && isSpace(chars[leading]))
            ++leading;
        while (trailing < chars.size() && isSpace(chars[chars.size() - 1 - trailing]))
            ++trailing;
        TokenSpan& s = enc.spans[i];
        if (leading > 0) {
            const bool isFirst = i == 0 || s.begin == 0;
            if (isFirst && addPrefixSpace && leading == 1)
                leading = 0;
            s.begin = std::min(s.begin + leading, s.end);
        }
        if (trailing > 0 && s.end >= trailing)
            s.end = std::max(s.end - trailing, s.begin);
    }
}

void ByteLevelPostProcessor::process(Encoding& enc, bool, const TokenText& tokenText) const
{
    if (trim_)
        trimByteLevelOffsets(enc, addPrefixSpace_, tokenText);
}

void TemplatePostProcessor::process(Encoding& enc, bool addSpecialTokens, const TokenText&) const
{
    if (!addSpecialTokens)
        return;
    Encoding out;
    for (const Item& item : single_) {
        if (item.isSequence) {
            out.ids.insert(out.ids.end(), enc.ids.begin(), enc.ids.end());
            out.spans.insert(out.spans.end(), enc.spans.begin(), enc.spans.end());
        } else {
            for (std::int32_t id : item.ids) {
                out.ids.push_back(id);
                out.spans.push_back({0, 0});
            }
        }
    }
    enc = std::move(out);
}

} // namespace blocklens::tok
