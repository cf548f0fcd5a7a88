#include "engine/safetensors.hpp"

#include "document/document.hpp"
#include "util/error.hpp"
#include "util/json_input.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace blocklens::engine {
namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20; // the reference implementation's limit

// Element sizes of every dtype the format defines, so offsets of any tensor can be checked.
std::optional<std::size_t> elementSize(std::string_view dtype)
{
    static const std::map<std::string, std::size_t, std::less<>> sizes = {
        {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
        {"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2},
        {"I32", 4}, {"U32", 4}, {"F32", 4},
        {"I64", 8}, {"U64", 8}, {"F64", 8}};
    const auto it = sizes.find(dtype);
    if (it == sizes.end())
        return std::nullopt;
    return it->second;
}

Error fileError(const std::filesystem::path& path, const std::string& message, const std::string& item = {},
                std::optional<std::int64_t> byteOffset = std::nullopt)
{
    ErrorContext c;
    c.file = path.string();
    c.item = item;
    c.byteOffset = byteOffset;
    return Error(message, std::move(c));
}

std::string shapeString(const std::vector<std::int64_t>& shape)
{
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

} // namespace

std::int64_t TensorInfo::numel() const
{
    std::int64_t n = 1;
    for (auto d : shape)
        n *= d;
    return n;
}

struct SafetensorsFile::Impl {
    std::filesystem::path path;
    const std::byte* base = nullptr; // the whole mapped file
    std::uint64_t size = 0;
    std::uint64_t dataStart = 0;     // 8 + header length
    std::string_view header;
    std::vector<TensorInfo> tensors;
    std::map<std::string, std::size_t, std::less<>> byName;
    std::map<std::string, std::string> metadata;

    ~Impl()
    {
        if (base && size)
            ::munmap(const_cast<std::byte*>(base), size);
    }
};

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path)
{
    auto impl = std::make_shared<Impl>();
    impl->path = path;
    requireRegularFile(path, "safetensors file"); // a FIFO would block the open below
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw fileError(path, errno == ENOENT ? "no such file" : std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw fileError(path, "not a regular file");
    }
    impl->size = static_cast<std::uint64_t>(st.st_size);
    if (impl->size < 8) {
        ::close(fd);
        throw fileError(path, "truncated file: " + std::to_string(impl->size) +
                                  " bytes, but a safetensors file starts with an 8-byte header length");
    }
    void* p = ::mmap(nullptr, impl->size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED)
        throw fileError(path, std::string("cannot map file: ") + std::strerror(errno));
    impl->base = static_cast<const std::byte*>(p);

    std::uint64_t headerLen = 0;
    for (int i = 7; i >= 0; --i)
        headerLen = headerLen << 8 | static_cast<std::uint8_t>(impl->base[i]);
    if (headerLen > kMaxHeaderBytes)
        throw fileError(path, "header length " + std::to_string(headerLen) +
                                  " is implausible (over 100 MiB): not a safetensors file?", {}, 0);
    if (8 + headerLen > impl->size)
        throw fileError(path, "truncated file: the header says it is " + std::to_string(headerLen) +
                                  " bytes, but the file has only " + std::to_string(impl->size - 8) +
                                  " bytes after the length", {}, 0);
    impl->dataStart = 8 + headerLen;
    impl->header = std::string_view(reinterpret_cast<const char*>(impl->base) + 8, headerLen);
    const std::uint64_t dataSize = impl->size - impl->dataStart;

    const nlohmann::json j = parseJsonInput(impl->header, {.file = path.string()}, "header is not valid JSON", 8);
    if (!j.is_object())
        throw fileError(path, "header is not a JSON object", {}, 8);
    for (const auto& [name, v] : j.items()) {
        if (name == "__metadata__") {
            if (!v.is_object())
                throw fileError(path, "__metadata__ is not an object", name);
            for (const auto& [k, mv] : v.items())
                impl->metadata[k] = mv.is_string() ? mv.get<std::string>() : mv.dump();
            continue;
        }
        if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
            throw fileError(path, "header entry needs dtype, shape and data_offsets", name);
        TensorInfo t;
        t.name = name;
        if (!v["dtype"].is_string())
            throw fileError(path, "dtype is not a string", name);
        t.dtypeName = v["dtype"].get<std::string>();
        const auto esize = elementSize(t.dtypeName);
        if (!esize)
            throw fileError(path, "unsupported dtype '" + t.dtypeName + "' (supported: F32, F16, BF16)", name);
        if (t.dtypeName == "F32" || t.dtypeName == "F16" || t.dtypeName == "BF16")
            t.dtype = parseDType(t.dtypeName);
        const auto& shape = v["shape"];
        if (!shape.is_array())
            throw fileError(path, "shape is not an array", name);
        for (const auto& d : shape) {
            if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
                throw fileError(path, "shape " + shape.dump() + " has an entry that is not a non-negative integer", name);
            t.shape.push_back(d.get<std::int64_t>());
        }
        const auto& off = v["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            throw fileError(path, "data_offsets must be two non-negative integers", name);
        t.begin = off[0].get<std::uint64_t>();
        t.end = off[1].get<std::uint64_t>();
        if (t.end < t.begin)
            throw fileError(path, "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + ") end before they begin", name);
        // numel * element size, guarding against overflow from absurd shapes.
        std::uint64_t expected = *esize;
        for (auto d : t.shape) {
            if (d != 0 && expected > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(d))
                throw fileError(path, "shape " + shapeString(t.shape) + " is too large", name);
            expected *= static_cast<std::uint64_t>(d);
        }
        if (t.bytes() != expected)
            throw fileError(path, "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) + ") hold " +
                                      std::to_string(t.bytes()) + " bytes but shape " + shapeString(t.shape) + " of " +
                                      t.dtypeName + " needs " + std::to_string(expected), name);
        if (t.end > dataSize)
            throw fileError(path, "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                                      ") overrun the data section of " + std::to_string(dataSize) +
                                      " bytes (truncated file?)", name,
                            static_cast<std::int64_t>(impl->dataStart + t.begin));
        impl->tensors.push_back(std::move(t));
    }
    std::sort(impl->tensors.begin(), impl->tensors.end(),
              [](const TensorInfo& a, const TensorInfo& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
    // In offset order every tensor that holds bytes must start at or after the end of the one
    // with bytes before it. Empty tensors hold nothing and are skipped: compared with their
    // neighbour only, one placed inside another tensor's range hid the overlap around it.
    const TensorInfo* previous = nullptr; // the last tensor with bytes so far
    for (std::size_t i = 0; i < impl->tensors.size(); ++i) {
        const auto& t = impl->tensors[i];
        if (t.bytes() > 0) {
            if (previous && t.begin < previous->end)
                throw fileError(path, "data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                                          ") overlap those of tensor '" + previous->name + "' [" +
                                          std::to_string(previous->begin) + ", " + std::to_string(previous->end) + ")",
                                t.name, static_cast<std::int64_t>(impl->dataStart + t.begin));
            previous = &t;
        }
        impl->byName[t.name] = i;
    }
    return SafetensorsFile(std::move(impl));
}

const std::filesystem::path& SafetensorsFile::path() const { return impl_->path; }
std::uint64_t SafetensorsFile::fileSize() const { return impl_->size; }
std::string_view SafetensorsFile::headerJson() const { return impl_->header; }
const std::vector<TensorInfo>& SafetensorsFile::tensors() const { return impl_->tensors; }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->metadata; }

const TensorInfo* SafetensorsFile::find(std::string_view name) const
{
    const auto it = impl_->byName.find(name);
    return it == impl_->byName.end() ? nullptr : &impl_->tensors[it->second];
}

const TensorInfo& SafetensorsFile::at(std::string_view name) const
{
    if (const auto* t = find(name))
        return *t;
    throw fileError(impl_->path, "missing tensor", std::string(name));
}

std::span<const std::byte> SafetensorsFile::bytes(const TensorInfo& t) const
{
    return {impl_->base + impl_->dataStart + t.begin, static_cast<std::size_t>(t.bytes())};
}

DType SafetensorsFile::floatDType(const TensorInfo& t) const
{
    if (!t.dtype)
        throw fileError(impl_->path, "unsupported dtype '" + t.dtypeName + "' (supported: F32, F16, BF16)", t.name);
    return *t.dtype;
}

std::vector<float> SafetensorsFile::toFloat(const TensorInfo& t) const
{
    const DType dt = floatDType(t);
    const auto raw = bytes(t);
    std::vector<float> out(static_cast<std::size_t>(t.numel()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (dt == DType::F32) {
            std::memcpy(&out[i], raw.data() + 4 * i, 4);
        } else {
            std::uint16_t h;
            std::memcpy(&h, raw.data() + 2 * i, 2);
            out[i] = dt == DType::BF16 ? bf16ToFloat(h) : f16ToFloat(h);
        }
    }
    return out;
}

// ---- checkpoint directories ------------------------------------------------------------------

void requireModelDirectory(const std::filesystem::path& directory)
{
    namespace fs = std::filesystem;
    std::error_code ec; // the throwing overloads would print a raw filesystem_error
    const auto status = fs::status(directory, ec);
    if (status.type() == fs::file_type::not_found)
        throw fileError(directory, "no such directory");
    if (ec)
        throw fileError(directory, "cannot examine the model directory: " + ec.message());
    if (status.type() != fs::file_type::directory)
        throw fileError(directory, "not a directory (a model is a directory with config.json and *.safetensors)");
}

CheckpointFiles CheckpointFiles::open(const std::filesystem::path& directory)
{
    namespace fs = std::filesystem;
    CheckpointFiles c;
    c.directory_ = directory;
    requireModelDirectory(directory);
    std::error_code ec;
    const fs::path index = directory / "model.safetensors.index.json";
    if (fs::symlink_status(index, ec).type() != fs::file_type::not_found) {
        const nlohmann::json j = parseJsonInput(readFileBytes(index, kMaxHeaderBytes), {.file = index.string()});
        if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
            throw fileError(index, "no weight_map object", "weight_map");
        std::map<std::string, std::size_t> shardIndex;
        for (const auto& [name, file] : j["weight_map"].items()) {
            if (!file.is_string())
                throw fileError(index, "shard file name is not a string", name);
            const std::string shard = file.get<std::string>();
            if (shard.find('/') != std::string::npos || shard.find("..") != std::string::npos)
                throw fileError(index, "shard '" + shard + "' is not a plain file name", name);
            auto it = shardIndex.find(shard);
            if (it == shardIndex.end()) {
                if (fs::symlink_status(directory / shard, ec).type() == fs::file_type::not_found)
                    throw fileError(index, "shard '" + shard + "' named here does not exist", name);
                c.files_.push_back(SafetensorsFile::open(directory / shard));
                it = shardIndex.emplace(shard, c.files_.size() - 1).first;
            }
            if (!c.files_[it->second].find(name))
                throw fileError(c.files_[it->second].path(), "missing tensor (the index says it is in this shard)", name);
            c.where_[name] = it->second;
        }
        return c;
    }
    fs::path single = directory / "model.safetensors";
    if (fs::symlink_status(single, ec).type() == fs::file_type::not_found) {
        std::vector<fs::path> found;
        for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().extension() == ".safetensors")
                found.push_back(it->path());
        if (ec)
            throw fileError(directory, "cannot list the model directory: " + ec.message());
        if (found.size() != 1)
            throw fileError(directory, found.empty()
                                           ? "no model.safetensors or model.safetensors.index.json in this directory"
                                           : "several .safetensors files but no model.safetensors.index.json");
        single = found.front();
    }
    c.files_.push_back(SafetensorsFile::open(single));
    for (const auto& t : c.files_.front().tensors())
        c.where_[t.name] = 0;
    return c;
}

std::optional<CheckpointFiles::Located> CheckpointFiles::find(std::string_view name) const
{
    const auto it = where_.find(name);
    if (it == where_.end())
        return std::nullopt;
    const auto& f = files_[it->second];
    return Located{&f, f.find(name)};
}

CheckpointFiles::Located CheckpointFiles::at(std::string_view name) const
{
    if (auto l = find(name))
        return *l;
    const std::filesystem::path where = files_.size() == 1 ? files_.front().path() : directory_;
    throw fileError(where, "missing tensor", std::string(name));
}

std::uint64_t CheckpointFiles::totalTensorBytes() const
{
    std::uint64_t total = 0;
    for (const auto& f : files_)
        for (const auto& t : f.tensors())
            total += t.bytes();
    return total;
}

std::string CheckpointFiles::fingerprint() const
{
    std::string material;
    for (const auto& f : files_) {
        material += f.path().filename().string() + "\n" + std::string(f.headerJson()) + "\n" + std::to_string(f.fileSize()) + "\n";
        if (f.tensors().empty())
            continue;
        const std::byte* data = f.bytes(f.tensors().front()).data() - f.tensors().front().begin; // the data section
        const std::uint64_t dataSize = f.fileSize() - 8 - f.headerJson().size();
        constexpr std::uint64_t kSamples = 64, kSample = 4096;
        for (std::uint64_t i = 0; i < kSamples; ++i) {
            const std::uint64_t at = dataSize <= kSample ? 0 : (dataSize - kSample) * i / (kSamples - 1);
            material.append(reinterpret_cast<const char*>(data + at), std::min(kSample, dataSize - at));
            if (dataSize <= kSample)
                break;
        }
    }
    return Sha256::hex(material);
}

// ---- writing ---------------------------------------------------------------------------------

std::string safetensorsHeader(std::span<const TensorToWrite> tensors, const std::map<std::string, std::string>& metadata)
{
    nlohmann::ordered_json h = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
        nlohmann::ordered_json m = nlohmann::ordered_json::object();
        for (const auto& [k, v] : metadata)
            m[k] = v;
        h["__metadata__"] = m;
    }
    std::uint64_t offset = 0;
    std::set<std::string> names;
    for (const auto& t : tensors) {
        if (!names.insert(t.name).second)
            throw Error("tensor written twice", {.item = t.name});
        std::uint64_t n = byteSize(t.dtype);
        for (auto d : t.shape)
            n *= static_cast<std::uint64_t>(d);
        if (!t.bytes.empty() && t.bytes.size() != n)
            throw Error("has " + std::to_string(t.bytes.size()) + " bytes but its shape needs " + std::to_string(n), {.item = t.name});
        h[t.name] = {{"dtype", std::string(safetensorsName(t.dtype))}, {"shape", t.shape}, {"data_offsets", {offset, offset + n}}};
        offset += n;
    }
    std::string json = h.dump();
    while (json.size() % 8 != 0)
        json += ' ';
    std::string out(8, '\0');
    const std::uint64_t len = json.size();
    for (int i = 0; i < 8; ++i)
        out[static_cast<std::size_t>(i)] = static_cast<char>((len >> (8 * i)) & 0xFF);
    return out + json;
}

void writeSafetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                      const std::map<std::string, std::string>& metadata)
{
    for (const auto& t : tensors) {
        std::uint64_t n = byteSize(t.dtype);
        for (auto d : t.shape)
            n *= static_cast<std::uint64_t>(d);
        if (t.bytes.size() != n)
            throw Error("has " + std::to_string(t.bytes.size()) + " bytes but its shape needs " + std::to_string(n),
                        {.file = path.string(), .item = t.name});
    }
    const std::string header = safetensorsHeader(tensors, metadata);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw Error("cannot write", {.file = path.string()});
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& t : tensors)
        out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
    out.flush();
    if (!out)
        throw Error("write failed (disk full?)", {.file = path.string()});
}

} // namespace blocklens::engine
