#include "engine/npy.hpp"

#include "document/document.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

#include <cstring>
#include <fstream>
#include <limits>
#include <string>

namespace blocklens::engine {

void writeNpy(const std::filesystem::path& path, std::span<const float> data, std::span<const std::int64_t> shape)
{
    std::int64_t n = 1;
    std::string dims;
    for (auto d : shape) {
        n *= d;
        dims += std::to_string(d) + ", ";
    }
    if (static_cast<std::int64_t>(data.size()) != n)
        throw Error("npy data has " + std::to_string(data.size()) + " values but the shape needs " + std::to_string(n),
                    {.file = path.string()});
    if (shape.size() > 1)
        dims.resize(dims.size() - 2); // "(3, 4)"; a 1-d shape keeps its comma: "(3,)"
    else if (!shape.empty())
        dims.resize(dims.size() - 1);
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
    // magic(6) + version(2) + length(2) + header, padded with spaces and ended by '\n' to 64 bytes.
    const std::size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error("cannot write", {.file = path.string()});
    const char magic[8] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
    out.write(magic, 8);
    const auto len = static_cast<std::uint16_t>(header.size());
    const char lenBytes[2] = {static_cast<char>(len & 0xFF), static_cast<char>(len >> 8)};
    out.write(lenBytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)));
    out.flush();
    if (!out)
        throw Error("write failed (disk full?)", {.file = path.string()});
}

NpyArray readNpy(const std::filesystem::path& path)
{
    const std::string bytes = readFileBytes(path, std::numeric_limits<std::uintmax_t>::max());
    auto fail = [&](const std::string& m) { return Error(m, {.file = path.string()}); };
    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
        throw fail("not a .npy file");
    const int major = static_cast<unsigned char>(bytes[6]);
    std::size_t headerLen = 0, headerStart = 0;
    if (major == 1) {
        headerLen = static_cast<unsigned char>(bytes[8]) | static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8;
        headerStart = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12)
            throw fail("truncated .npy header");
        for (int i = 3; i >= 0; --i)
            headerLen = headerLen << 8 | static_cast<unsigned char>(bytes[8 + static_cast<std::size_t>(i)]);
        headerStart = 12;
    } else {
        throw fail("unsupported .npy version " + std::to_string(major));
    }
    if (headerStart + headerLen > bytes.size())
        throw fail("truncated .npy header");
    const std::string header = bytes.substr(headerStart, headerLen);
    auto field = [&](const std::string& key) {
        const auto k = header.find("'" + key + "'");
        if (k == std::string::npos)
            throw fail(".npy header has no '" + key + "'");
        return header.substr(header.find(':', k) + 1);
    };
    const std::string descr = field("descr");
    const bool f4 = descr.find("'<f4'") != std::string::npos;
    const bool f8 = descr.find("'<f8'") != std::string::npos;
    if (!f4 && !f8)
        throw fail("unsupported .npy dtype (expected '<f4' or '<f8'): " + descr.substr(0, descr.find(',')));
    if (field("fortran_order").find("True") < field("fortran_order").find(','))
        throw fail("Fortran-order .npy arrays are not supported");
    NpyArray a;
    const std::string shape = field("shape");
    const auto open = shape.find('('), close = shape.find(')');
    std::int64_t n = 1;
    for (std::size_t i = open + 1; i < close;) {
        while (i < close && (shape[i] == ' ' || shape[i] == ','))
            ++i;
        if (i >= close)
            break;
        std::size_t used = 0;
        const std::int64_t d = std::stoll(shape.substr(i, close - i), &used);
        a.shape.push_back(d);
        n *= d;
        i += used;
    }
    const std::size_t dataStart = headerStart + headerLen;
    const std::size_t need = static_cast<std::size_t>(n) * (f4 ? 4 : 8);
    if (bytes.size() - dataStart < need)
        throw fail("truncated .npy data: " + std::to_string(bytes.size() - dataStart) + " bytes, the shape needs " + std::to_string(need));
    a.data.resize(static_cast<std::size_t>(n));
    if (f4) {
        std::memcpy(a.data.data(), bytes.data() + dataStart, need);
    } else {
        for (std::size_t i = 0; i < a.data.size(); ++i) {
            double v;
            std::memcpy(&v, bytes.data() + dataStart + 8 * i, 8);
            a.data[i] = static_cast<float>(v);
        }
    }
    return a;
}

} // namespace blocklens::engine
