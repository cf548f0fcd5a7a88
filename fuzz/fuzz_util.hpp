#pragma once
// What every harness shares: the rule that bad input may only end in blocklens::Error, input
// splitting, and a private temporary folder.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::fuzz {

// Core's rule (ARCHITECTURE.md, "Errors"): bad input is reported with blocklens::Error. Any other
// exception escaping a parser (a raw nlohmann or std:: exception, bad_alloc) is a finding: it is
// printed and the process aborts, which libFuzzer records as a crash with the input.
template <class F>
void onlyProjectErrors(const char* what, F&& f);

[[noreturn]] void fail(const char* what, const std::string& detail);

inline std::string_view bytes(const std::uint8_t* data, std::size_t size)
{
    return {reinterpret_cast<const char*>(data), size};
}

// Splits at every `separator` (a trailing empty piece is kept).
std::vector<std::string> split(std::string_view text, char separator);

// A folder of this process under $TMPDIR (scripts/fuzz points it at /dev/shm when it can), made
// on first use and removed at exit.
const std::filesystem::path& tempDir();
// Writes `content` to tempDir()/name and returns the path.
std::filesystem::path writeTempFile(const std::string& name, std::string_view content);

} // namespace blocklens::fuzz

#include "util/error.hpp"

#include <exception>

template <class F>
void blocklens::fuzz::onlyProjectErrors(const char* what, F&& f)
{
    try {
        f();
    } catch (const blocklens::Error&) {
        // the expected outcome for most fuzzed inputs
    } catch (const std::exception& e) {
        fail(what, std::string("escaped as a non-project exception: ") + e.what());
    }
}
