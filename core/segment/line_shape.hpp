#pragma once
// What a single line looks like, in the general terms that mark block starts across document
// kinds: Markdown headings, section numbers, capitalised titles, definitions in source code and
// the comments or decorators that belong to them. Both the candidate rules ("heading", "code") and
// the structural scorer read these, so a rule and its score never disagree about a line.
// Nothing here knows a particular document source: only shapes and a list of definition keywords
// shared by common programming languages.
#include "segment/text_layout.hpp"

#include <string_view>
#include <vector>

namespace blocklens::segment {

struct LineShape {
    int atxLevel = 0;           // Markdown "#".."######" heading level, outside code fences; 0: none
    bool setext = false;        // text line underlined by a following "===" or "---" line
    bool underline = false;     // this line is such an underline
    int numbering = 0;          // parts of a leading section number: "7.1.5 Foo" 3, "7. Foo" 1; 0: none,
                                // also for a number that continues the sentence of a wrapped line above
    bool allCaps = false;       // at least two cased letters, all upper case
    bool terminalPunct = false; // ends with . , ; : ! or ?
    int definitionIndent = -1;  // indentation of a definition (def, class, fn, struct ...); -1: none
    bool attachable = false;    // a comment or decorator line: belongs to the definition below it
};

LineShape lineShape(const TextLayout& layout, std::size_t line);
std::vector<LineShape> lineShapes(const TextLayout& layout);

// Isolated: a blank line (or the document edge) directly above and below.
bool isIsolated(const TextLayout& layout, std::size_t line);

// The "heading" candidate rule: a Markdown ATX or setext heading, a numbered line of at most
// 100 code points without closing punctuation, or an isolated capitalised line of at most 60.
bool looksLikeHeading(const TextLayout& layout, const LineShape& shape, std::size_t line);

} // namespace blocklens::segment
