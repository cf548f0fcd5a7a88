#include "fuzz_util.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include <unistd.h>

namespace blocklens::fuzz {

void fail(const char* what, const std::string& detail)
{
    std::fprintf(stderr, "\n==== fuzz finding in %s: %s\n", what, detail.c_str());
    std::fflush(stderr);
    std::abort();
}

std::vector<std::string> split(std::string_view text, char separator)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto end = text.find(separator, start);
        if (end == std::string_view::npos) {
            out.emplace_back(text.substr(start));
            return out;
        }
        out.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
}

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "blocklens-fuzz-XXXXXX").string();
        if (!mkdtemp(pattern.data()))
            fail("fuzz_util", "cannot create a temporary folder under " + pattern);
        path = pattern;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

} // namespace

const std::filesystem::path& tempDir()
{
    static const TempDir dir;
    return dir.path;
}

std::filesystem::path writeTempFile(const std::string& name, std::string_view content)
{
    const auto path = tempDir() / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out)
        fail("fuzz_util", "cannot write " + path.string());
    return path;
}

} // namespace blocklens::fuzz
