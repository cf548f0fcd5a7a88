#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.hpp"

#include "util/error.hpp"
#include "util/utf8.hpp"

#include <pcre2.h>

namespace blocklens::tok {

struct Regex::Code {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Code() { pcre2_code_free(code); }
};

namespace {

constexpr std::string_view kSpace = "\\t-\\r\\x{20}\\x{85}\\p{Z}";
constexpr std::string_view kWord = "\\p{L}\\p{M}\\p{N}\\p{Pc}";
constexpr std::string_view kHex = "0-9a-fA-F";

// Per-thread matching state shared by all regexes: match data for the whole-match offsets and
// a JIT stack large enough for long runs.
struct ThreadMatchState {
    pcre2_match_data* data = nullptr;
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* stack = nullptr;
    ThreadMatchState()
    {
        data = pcre2_match_data_create(1, nullptr);
        context = pcre2_match_context_create(nullptr);
        stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
        if (context && stack)
            pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~ThreadMatchState()
    {
        pcre2_match_data_free(data);
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(stack);
    }
};

ThreadMatchState& matchState()
{
    thread_local ThreadMatchState state;
    return state;
}

std::string pcreMessage(int code)
{
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof buf);
    return reinterpret_cast<const char*>(buf);
}

std::shared_ptr<const Regex::Code> compileCode(const std::string& pcrePattern, std::uint32_t extraOptions,
                                               std::string_view shownPattern, const std::string& where)
{
    int err = 0;
    PCRE2_SIZE errOffset = 0;
    // \C matches one byte, so a split could cut a UTF-8 character in two (and the piece would
    // lose it): refused (Oniguruma, which the `tokenizers` library uses, has no such escape).
    // PCRE2_LITERAL does not combine with these options (which a literal does not need).
    const bool literal = (extraOptions & PCRE2_LITERAL) != 0;
    const std::uint32_t options = literal ? 0 : PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pcrePattern.data()), pcrePattern.size(),
                                     PCRE2_UTF | options | PCRE2_NO_UTF_CHECK | extraOptions, &err, &errOffset, nullptr);
    if (!code && err == PCRE2_ERROR_BACKSLASH_C_CALLER_DISABLED)
        throw Error("the regular expression \"" + std::string(shownPattern) +
                        "\" uses \\C (any one byte), which could split a UTF-8 character; it is not supported",
                    {.item = where});
    if (!code)
        throw Error("cannot compile the regular expression \"" + std::string(shownPattern) + "\": " +
                        pcreMessage(err) + " (at offset " + std::to_string(errOffset) + " of its PCRE2 form)",
                    {.item = where});
    auto c = std::make_shared<Regex::Code>();
    c->code = code;
    c->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    return c;
}

} // namespace

std::string Regex::translate(std::string_view p)
{
    std::string out;
    out.reserve(p.size() + 32);
    bool inClass = false;
    std::size_t classStart = 0; // position in p just after '[' or '[^'
    for (std::size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            const char n = p[i + 1];
            auto put = [&](std::string_view set, bool negate) {
                if (inClass) {
                    out.append(set);
                } else {
                    out += negate ? "[^" : "[";
                    out.append(set);
                    out += ']';
                }
            };
            if (n == 's') { put(kSpace, false); ++i; continue; }
            if (n == 'w') { put(kWord, false); ++i; continue; }
            if (n == 'h') { put(kHex, false); ++i; continue; }
            if (!inClass && n == 'S') { put(kSpace, true); ++i; continue; }
            if (!inClass && n == 'W') { put(kWord, true); ++i; continue; }
            if (!inClass && n == 'H') { put(kHex, true); ++i; continue; }
            out += c;
            out += n;
            ++i;
            continue;
        }
        if (!inClass && c == '[') {
            inClass = true;
            out += c;
            if (i + 1 < p.size() && p[i + 1] == '^') {
                out += '^';
                ++i;
            }
            classStart = i + 1;
            continue;
        }
        if (inClass && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
            // POSIX class [:name:] inside a class: copy through.
            const std::size_t close = p.find(":]", i + 2);
            if (close != std::string_view::npos) {
                out.append(p.substr(i, close + 2 - i));
                i = close + 1;
                continue;
            }
        }
        if (inClass && c == ']' && i != classStart) {
            inClass = false;
            out += c;
            continue;
        }
        out += c;
    }
    return out;
}

Regex Regex::compile(std::string_view pattern, const std::string& where)
{
    Regex r;
    r.source_ = std::string(pattern);
    r.code_ = compileCode(translate(pattern), 0, pattern, where);
    return r;
}

Regex Regex::literal(std::string_view text, const std::string& where)
{
    Regex r;
    r.source_ = std::string(text);
    r.code_ = compileCode(std::string(text), PCRE2_LITERAL, text, where);
    return r;
}

Regex Regex::compilePcre(std::string_view pcrePattern, const std::string& where)
{
    Regex r;
    r.source_ = std::string(pcrePattern);
    r.code_ = compileCode(r.source_, 0, pcrePattern, where);
    return r;
}

void Regex::findAll(std::string_view subject, std::vector<std::pair<std::uint32_t, std::uint32_t>>& out) const
{
    ThreadMatchState& st = matchState();
    const auto* s = reinterpret_cast<PCRE2_SPTR>(subject.data());
    const std::size_t n = subject.size();
    std::size_t lastEnd = 0;
    bool haveLastMatch = false;
    std::size_t lastMatchEnd = 0;
    while (lastEnd <= n) {
        int rc = code_->jit ? pcre2_jit_match(code_->code, s, n, lastEnd, 0, st.data, st.context)
                            : pcre2_match(code_->code, s, n, lastEnd, PCRE2_NO_UTF_CHECK, st.data, st.context);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
            rc = pcre2_match(code_->code, s, n, lastEnd, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, st.data, st.context);
        if (rc == PCRE2_ERROR_NOMATCH)
            return;
        if (rc < 0)
            throw Error("regular expression \"" + source_ + "\" failed: " + pcreMessage(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
        const std::size_t b = ov[0], e = ov[1];
        if (b == e && haveLastMatch && lastMatchEnd == e) {
            // An empty match right after the previous match: step over one character.
            if (lastEnd >= n)
                return;
            lastEnd += static_cast<std::size_t>(utf8::sequenceLength(static_cast<unsigned char>(subject[lastEnd])));
            continue;
        }
        out.emplace_back(static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e));
        lastEnd = e;
        haveLastMatch = true;
        lastMatchEnd = e;
    }
}

bool isWhiteSpace(char32_t c) noexcept
{
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool isRustWordChar(char32_t c)
{
    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    static const Regex word = Regex::compilePcre("^[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]", "");
    std::string s;
    utf8::append(s, c);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> m;
    word.findAll(s, m);
    return !m.empty();
}

} // namespace blocklens::tok
