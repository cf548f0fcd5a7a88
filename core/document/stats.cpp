#include "document/stats.hpp"

namespace blocklens {

DocumentStats computeStats(const Document& doc)
{
    DocumentStats s;
    const std::string& t = doc.text();
    s.bytes = t.size();
    s.codePoints = doc.length();
    s.lines = 1;
    bool inWord = false, lineBlank = true, inParagraph = false;
    for (std::size_t i = 0; i < t.size();) {
        const char32_t c = utf8::decodeAt(t, i);
        if (c > 0x7F)
            ++s.nonAscii;
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C ||
                           c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200A);
        if (!space && !inWord)
            ++s.words;
        inWord = !space;
        if (c == '\n') {
            ++s.lines;
            if (lineBlank)
                inParagraph = false;
            lineBlank = true;
        } else if (!space) {
            if (lineBlank && !inParagraph) {
                ++s.paragraphs;
                inParagraph = true;
            }
            lineBlank = false;
        }
    }
    return s;
}

} // namespace blocklens
