#pragma once
// Regular expressions of tokenizer.json (Split pre-tokenizer, Replace normalizer/decoder), run
// with PCRE2 (UTF + UCP, JIT). The `tokenizers` library runs them with Oniguruma; translate()
// rewrites the classes whose meaning differs between the two so that PCRE2 matches what
// Oniguruma matches:
//   \s  -> [\t-\r\x20\x85\p{Z}]     (Oniguruma: 9-13, 0x20, 0x85, Zs, Zl, Zp; PCRE2 also has U+180E)
//   \w  -> [\p{L}\p{M}\p{N}\p{Pc}]  (Oniguruma: Letter|Mark|Number|Connector_Punctuation)
//   \h  -> [0-9a-fA-F]              (Oniguruma: hexadecimal digit; PCRE2: horizontal space)
// and their negations outside character classes. Thread-safe: matching uses per-thread data.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace blocklens::tok {

class Regex {
public:
    // Throws Error (naming `where`) when the pattern does not compile.
    static Regex compile(std::string_view pattern, const std::string& where);
    static Regex literal(std::string_view text, const std::string& where);
    // A pattern already written for PCRE2 (no translation).
    static Regex compilePcre(std::string_view pcrePattern, const std::string& where);

    // Oniguruma's find_iter: non-overlapping matches left to right, as byte ranges of `subject`
    // (valid UTF-8). Appends to out.
    void findAll(std::string_view subject, std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) const;

    const std::string& pattern() const noexcept { return source_; }

    // The PCRE2 pattern used for an Oniguruma pattern (exposed for tests).
    static std::string translate(std::string_view onigPattern);

    struct Code; // compiled PCRE2 code (regex.cpp)

private:
    std::shared_ptr<const Code> code_;
    std::string source_;
};

// Rust's char::is_whitespace (Unicode White_Space).
bool isWhiteSpace(char32_t c) noexcept;
// Rust regex's \w: Alphabetic, Mark, Decimal_Number, Connector_Punctuation, Join_Control.
bool isRustWordChar(char32_t c);

} // namespace blocklens::tok
