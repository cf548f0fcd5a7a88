#include "tokenizer/decoders.hpp"

#include "tokenizer/byte_level.hpp"
#include "util/utf8.hpp"

namespace blocklens::tok {

void SequenceDecoder::decodeChain(std::vector<std::string>& tokens) const
{
    for (const auto& s : steps_)
        s->decodeChain(tokens);
}

void ByteLevelDecoder::decodeChain(std::vector<std::string>& tokens) const
{
    std::string bytes;
    for (const std::string& t : tokens) {
        if (auto raw = byte_level::toBytes(t))
            bytes += *raw;
        else
            bytes += t; // a token with characters outside the alphabet is kept as it is
    }
    tokens.assign(1, utf8::replaceInvalid(bytes).text);
}

void ReplaceDecoder::decodeChain(std::vector<std::string>& tokens) const
{
    std::vector<std::pair<std::uint32_t, std::uint32_t>> matches;
    for (std::string& t : tokens) {
        matches.clear();
        pattern_.findAll(t, matches);
        if (matches.empty())
            continue;
        std::string out;
        std::size_t prev = 0;
        for (const auto& [b, e] : matches) {
            out.append(t, prev, b - prev);
            out += content_;
            prev = e;
        }
        out.append(t, prev);
        t = std::move(out);
    }
}

void ByteFallbackDecoder::decodeChain(std::vector<std::string>& tokens) const
{
    std::vector<std::string> out;
    std::string pending;
    auto hexByte = [](const std::string& t) -> int {
        if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t.back() != '>')
            return -1;
        int v = 0;
        for (int k = 3; k < 5; ++k) {
            const char c = t[static_cast<std::size_t>(k)];
            int d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
            else return -1;
            v = v * 16 + d;
        }
        return v;
    };
    auto flush = [&] {
        if (pending.empty())
            return;
        if (utf8::findInvalid(pending) == std::string_view::npos)
            out.push_back(pending);
        else
            for (std::size_t k = 0; k < pending.size(); ++k)
                out.emplace_back("\xEF\xBF\xBD");
        pending.clear();
    };
    for (std::string& t : tokens) {
        const int b = hexByte(t);
        if (b >= 0) {
            pending += static_cast<char>(b);
            continue;
        }
        flush();
        out.push_back(std::move(t));
    }
    flush();
    tokens = std::move(out);
}

void FuseDecoder::decodeChain(std::vector<std::string>& tokens) const
{
    std::string all;
    for (const std::string& t : tokens)
        all += t;
    tokens.assign(1, std::move(all));
}

void StripDecoder::decodeChain(std::vector<std::string>& tokens) const
{
    for (std::string& t : tokens) {
        const std::u32string chars = utf8::toUtf32(t);
        std::size_t startCut = 0;
        for (std::size_t i = 0; i < start_ && i < chars.size(); ++i) {
            if (chars[i] != content_)
                break;
            startCut = i + 1;
        }
        std::size_t stopCut = chars.size();
        for (std::size_t i = 0; i < stop_ && i < chars.size(); ++i) {
            const std::size_t index = chars.size() - i - 1;
            if (chars[index] != content_)
                break;
            stopCut = index;
        }
        t = stopCut > startCut ? utf8::fromUtf32(std::u32string_view(chars).substr(startCut, stopCut - startCut))
                               : std::string();
    }
}

void MetaspaceDecoder::decodeChain(std::vector<std::string>& tokens) const
{
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        std::string out;
        std::size_t k = 0;
        const std::string& t = tokens[i];
        while (k < t.size()) {
            const std::size_t start = k;
            const char32_t c = utf8::decodeAt(t, k);
            if (c == replacement_) {
                if (!(i == 0 && scheme_ != PrependScheme::Never))
                    out += ' ';
            } else {
                out.append(t, start, k - start);
            }
        }
        tokens[i] = std::move(out);
    }
}

void BpeSuffixDecoder::decodeChain(std::vector<std::string>& tokens) const
{
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        std::string& t = tokens[i];
        const std::string with = i + 1 == tokens.size() ? "" : " ";
        if (suffix_.empty())
            continue;
        std::string out;
        std::size_t pos = 0, hit;
        while ((hit = t.find(suffix_, pos)) != std::string::npos) {
            out.append(t, pos, hit - pos);
            out += with;
            pos = hit + suffix_.size();
        }
        out.append(t, pos);
        t = std::move(out);
    }
}

} // namespace blocklens::tok
