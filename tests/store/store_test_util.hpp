#pragma once
// Helpers shared by the store tests.
#include "document/dataset.hpp"
#include "store/store.hpp"
#include "support/error_of.hpp"
#include "support/temp_files.hpp"
#include "util/error.hpp"

#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>

namespace blocklens::test {

inline std::filesystem::path storeFixturesDir()
{
    return std::filesystem::path(BLOCKLENS_SOURCE_DIR) / "tests" / "fixtures" / "store";
}

inline std::filesystem::path segdevPath()
{
    return std::filesystem::path(BLOCKLENS_SOURCE_DIR) / ".." / "shared" / "data" / "segdev.jsonl";
}

inline bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

inline std::string readBytes(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::filesystem::path tempPath(const QTemporaryDir& dir, const std::string& name)
{
    return std::filesystem::path(dir.path().toStdString()) / name;
}

// A small dataset in the record format: English, French with non-ASCII text, an emoji (4-byte
// UTF-8), escapes, a record with no boundaries, and one in the chunks form.
inline std::string smallDatasetJsonl()
{
    return "{\"id\": \"a1\", \"category\": \"book\", \"variant\": \"structured\", \"lang\": \"en\", \"source\": \"a.html\", "
           "\"text\": \"# One\\nAlpha beta.\\n\\n# Two\\nGamma \\\"delta\\\".\\n\\n# Three\\nEnd.\\n\", "
           "\"boundaries\": [{\"offset\": 19, \"level\": 1}, {\"offset\": 41, \"level\": 2}]}\n"
           "{\"id\": \"b2\", \"category\": \"book\", \"variant\": \"plain\", \"lang\": \"fr\", \"source\": \"b.html\", "
           "\"text\": \"\\u00c9t\\u00e9 \\u00e0 Paris.\\nDeuxi\\u00e8me \\ud83d\\ude00 ligne.\\r\\nTab\\there.\\n\", "
           "\"boundaries\": [{\"offset\": 13, \"level\": 1}, {\"offset\": 32, \"level\": 3}]}\n"
           "{\"id\": \"c3\", \"category\": \"code\", \"lang\": \"en\", \"source\": \"m.py\", "
           "\"text\": \"def f():\\n    pass\\n\", \"boundaries\": []}\n"
           "{\"chunks\": [\"first chunk\\n\", \"second \\u00fc chunk\\n\", \"third\"]}\n";
}

inline Dataset smallDataset(const QTemporaryDir& dir, const std::string& name = "small.jsonl")
{
    return loadDataset(writeFile(dir, name, smallDatasetJsonl()));
}

// A document of `length` code points (lines of text) for the edit-script tests.
inline Document longDocument(std::size_t length)
{
    std::string text;
    text.reserve(length);
    while (text.size() < length)
        text += (text.size() % 64 == 63) ? '\n' : static_cast<char>('a' + text.size() % 26);
    DocumentMeta m;
    m.id = "long";
    m.source = "long.txt";
    return Document(std::move(text), m);
}

struct ProcessResult {
    int exitCode = -1;
    QProcess::ExitStatus status = QProcess::NormalExit;
    std::string out, err;
};

inline ProcessResult runHelper(const QStringList& args, int timeoutMs = 120000)
{
    QProcess p;
    p.start(QString::fromUtf8(BLOCKLENS_STORE_HELPER_PATH), args);
    ProcessResult r;
    if (!p.waitForStarted(10000)) {
        r.err = "store_helper did not start";
        return r;
    }
    p.waitForFinished(timeoutMs);
    r.exitCode = p.exitCode();
    r.status = p.exitStatus();
    r.out = p.readAllStandardOutput().toStdString();
    r.err = p.readAllStandardError().toStdString();
    return r;
}

} // namespace blocklens::test
