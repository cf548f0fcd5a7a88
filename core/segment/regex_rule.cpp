// Rule::Regex: user patterns through PCRE2 (UTF, Unicode properties, multiline so ^ and $ match
// at line ends), JIT-compiled when available, because a pattern runs over whole datasets.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "segment/candidates.hpp"

#include "document/document.hpp"
#include "util/error.hpp"

#include <pcre2.h>

#include <memory>

namespace blocklens::segment {

std::vector<std::pair<std::size_t, std::size_t>> regexMatchSpans(const Document& doc, const std::string& pattern)
{
    int errorCode = 0;
    PCRE2_SIZE errorOffset = 0;
    std::unique_ptr<pcre2_code, decltype(&pcre2_code_free)> code(
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                      PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &errorCode, &errorOffset, nullptr),
        &pcre2_code_free);
    if (!code) {
        PCRE2_UCHAR buffer[256];
        pcre2_get_error_message(errorCode, buffer, sizeof buffer);
        throw Error("invalid regex '" + pattern + "' at offset " + std::to_string(errorOffset) + ": "
                    + reinterpret_cast<const char*>(buffer));
    }
    pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE); // optional speed-up; failure is harmless
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
        pcre2_match_data_create_from_pattern(code.get(), nullptr), &pcre2_match_data_free);

    const std::string& text = doc.text();
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        // The text was validated as UTF-8 when the Document was made: skip PCRE2's re-check.
        const int rc = pcre2_match(code.get(), subject, text.size(), start, PCRE2_NO_UTF_CHECK, match.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            PCRE2_UCHAR buffer[256];
            pcre2_get_error_message(rc, buffer, sizeof buffer);
            throw Error("regex '" + pattern + "' failed: " + reinterpret_cast<const char*>(buffer));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match.get());
        out.emplace_back(doc.codePointOffset(ov[0]), doc.codePointOffset(ov[1]));
        std::size_t next = ov[1];
        if (next <= ov[0]) { // empty match: step over one code point
            next = ov[0] + 1;
            while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80)
                ++next;
        }
        start = next;
    }
    return out;
}

std::vector<std::size_t> regexMatchStarts(const Document& doc, const std::string& pattern)
{
    std::vector<std::size_t> out;
    for (const auto& [begin, end] : regexMatchSpans(doc, pattern))
        out.push_back(begin);
    return out;
}

} // namespace blocklens::segment
