#pragma once
// Helpers for tests that write files: a temporary directory and byte-exact writes.
#include <QTemporaryDir>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace blocklens::test {

inline std::filesystem::path writeFile(const QTemporaryDir& dir, const std::string& name, std::string_view bytes)
{
    const std::filesystem::path p = std::filesystem::path(dir.path().toStdString()) / name;
    std::ofstream out(p, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
}

inline std::filesystem::path fixturesDir() { return BLOCKLENS_FIXTURES_DIR; }
inline std::filesystem::path sourceDir() { return BLOCKLENS_SOURCE_DIR; }

} // namespace blocklens::test
