#include "learn/lm/corpus.hpp"

#include "util/error.hpp"
#include "util/files.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

namespace blocklens::lm {
namespace {
constexpr char kMagic[8] = {'B', 'L', 'T', 'O', 'K', '1', '6', '\0'};
}

std::vector<std::string_view> splitDocuments(std::string_view text)
{
    std::vector<std::string_view> docs;
    std::size_t start = 0;
    auto push = [&](std::size_t end) {
        std::string_view d = text.substr(start, end - start);
        while (!d.empty() && (d.back() == '\n' || d.back() == '\r'))
            d.remove_suffix(1);
        if (!d.empty())
            docs.push_back(d);
    };
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t eol = std::min(text.find('\n', pos), text.size());
        std::string_view line = text.substr(pos, eol - pos);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line == "\x1e") {
            push(pos);
            start = eol + 1;
        }
        pos = eol + 1;
    }
    if (start < text.size())
        push(text.size());
    return docs;
}

std::string readFile(const std::filesystem::path& path)
{
    requireRegularFile(path, "corpus");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot open", {.file = path.string()});
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        throw Error("read failed", {.file = path.string()});
    return data;
}

std::vector<std::uint16_t> tokenizeDocuments(const Tokenizer& tokenizer, const std::vector<std::string_view>& documents,
                                             std::int32_t bos, std::int32_t eos, unsigned threads, TokenizeStats* stats,
                                             const Progress& progress)
{
    if (tokenizer.vocabSize() > 65536)
        throw Error("the tokenizer has " + std::to_string(tokenizer.vocabSize()) + " tokens; token files hold at most 65536");
    if (bos < 0 || eos < 0 || static_cast<std::size_t>(std::max(bos, eos)) >= tokenizer.vocabSize())
        throw Error("BOS/EOS ids outside the tokenizer's vocabulary");
    if (threads == 0)
        threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::vector<std::uint16_t>> encoded(documents.size());
    std::atomic<std::size_t> next{0}, done{0};
    std::atomic<bool> failed{false};
    std::string failure;
    auto work = [&] {
        for (std::size_t i; (i = next++) < documents.size() && !failed;) {
            try {
                const Encoding e = tokenizer.encode(documents[i], /*addSpecialTokens=*/false);
                auto& out = encoded[i];
                out.reserve(e.ids.size() + 2);
                out.push_back(static_cast<std::uint16_t>(bos));
                for (auto id : e.ids)
                    out.push_back(static_cast<std::uint16_t>(id));
                out.push_back(static_cast<std::uint16_t>(eos));
            } catch (const std::exception& ex) {
                if (!failed.exchange(true))
                    failure = "document " + std::to_string(i) + ": " + ex.what();
            }
            ++done;
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t)
        pool.emplace_back(work);
    work();
    for (auto& t : pool)
        t.join();
    progress(static_cast<std::int64_t>(done), static_cast<std::int64_t>(documents.size()), "documents");
    if (failed)
        throw Error(failure);
    std::vector<std::uint16_t> tokens;
    TokenizeStats s;
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        tokens.insert(tokens.end(), encoded[i].begin(), encoded[i].end());
        s.bytes += static_cast<std::int64_t>(documents[i].size());
    }
    s.documents = static_cast<std::int64_t>(documents.size());
    s.tokens = static_cast<std::int64_t>(tokens.size());
    if (stats)
        *stats = s;
    return tokens;
}

void writeTokenFile(const std::filesystem::path& path, const std::vector<std::uint16_t>& tokens)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error("cannot create", {.file = path.string()});
    const std::uint64_t count = tokens.size();
    out.write(kMagic, sizeof kMagic);
    unsigned char le[8];
    for (int i = 0; i < 8; ++i)
        le[i] = static_cast<unsigned char>(count >> (8 * i));
    out.write(reinterpret_cast<const char*>(le), 8);
    std::vector<unsigned char> bytes(tokens.size() * 2);
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        bytes[2 * i] = static_cast<unsigned char>(tokens[i] & 0xff);
        bytes[2 * i + 1] = static_cast<unsigned char>(tokens[i] >> 8);
    }
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out)
        throw Error("write failed (disk full?)", {.file = path.string()});
}

std::vector<std::uint16_t> readTokenFile(const std::filesystem::path& path)
{
    const std::string data = readFile(path);
    if (data.size() < 16 || std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
        throw Error("not a token file (no BLTOK16 header)", {.file = path.string()});
    std::uint64_t count = 0;
    for (int i = 0; i < 8; ++i)
        count |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[8 + i])) << (8 * i);
    if (data.size() != 16 + 2 * count)
        throw Error("the header says " + std::to_string(count) + " tokens but the file holds " +
                        std::to_string((data.size() - 16) / 2),
                    {.file = path.string()});
    std::vector<std::uint16_t> tokens(count);
    const auto* p = reinterpret_cast<const unsigned char*>(data.data()) + 16;
    for (std::uint64_t i = 0; i < count; ++i)
        tokens[i] = static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
    return tokens;
}

} // namespace blocklens::lm
