#pragma once
// Safetensors files (https://github.com/huggingface/safetensors), read through a memory map and
// checked before anything is trusted:
//
//   [u64 little-endian N][N bytes of JSON header][data section]
//   header: {"NAME": {"dtype": "BF16", "shape": [rows, cols], "data_offsets": [begin, end]}, ...,
//            "__metadata__": {"key": "value"}}   offsets are relative to the data section.
//
// Every problem is a blocklens::Error naming the file and, where one is involved, the tensor:
// a file shorter than its header says, offsets that overrun the file or disagree with the shape,
// a malformed header, a missing tensor. Dtypes other than F32/F16/BF16 are accepted in the
// header (checkpoints carry the odd integer buffer) but asking for their data as floats fails.
//
// A checkpoint directory is either one `model.safetensors` or shards
// `model-0000x-of-0000y.safetensors` listed by `model.safetensors.index.json`.
#include "engine/dtype.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens::engine {

struct TensorInfo {
    std::string name;
    std::string dtypeName;          // as written in the header, e.g. "BF16", "I64"
    std::optional<DType> dtype;     // set for F32, F16, BF16
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0;        // byte offsets in the data section, [begin, end)
    std::uint64_t end = 0;

    std::int64_t numel() const;
    std::uint64_t bytes() const { return end - begin; }
};

class SafetensorsFile {
public:
    // Maps the file and validates the header against the file size. Throws Error.
    static SafetensorsFile open(const std::filesystem::path& path);

    const std::filesystem::path& path() const;
    std::uint64_t fileSize() const;
    std::string_view headerJson() const;
    const std::vector<TensorInfo>& tensors() const; // ordered by data offset
    const std::map<std::string, std::string>& metadata() const;

    const TensorInfo* find(std::string_view name) const;
    const TensorInfo& at(std::string_view name) const; // throws "missing tensor"
    // The tensor's raw bytes (little-endian), valid while any copy of this object lives.
    std::span<const std::byte> bytes(const TensorInfo& tensor) const;
    // The float dtype of a tensor, or an Error naming file and tensor for any other dtype.
    DType floatDType(const TensorInfo& tensor) const;
    // The tensor converted to float32 (for tests and small tensors).
    std::vector<float> toFloat(const TensorInfo& tensor) const;

    struct Impl;

private:
    explicit SafetensorsFile(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

// Throws Error naming `directory` unless it is a directory (links followed): "no such directory",
// "not a directory", or why it cannot be examined (a symbolic link loop, no permission).
void requireModelDirectory(const std::filesystem::path& directory);

// All tensors of a checkpoint directory, across shards.
class CheckpointFiles {
public:
    // `model.safetensors.index.json` if present, else `model.safetensors`, else the only
    // *.safetensors file. Throws Error if there is none, or the index names a missing shard or a
    // tensor its shard does not hold.
    static CheckpointFiles open(const std::filesystem::path& directory);

    struct Located {
        const SafetensorsFile* file;
        const TensorInfo* tensor;
    };
    std::optional<Located> find(std::string_view name) const;
    Located at(std::string_view name) const; // throws "missing tensor" naming the directory
    bool contains(std::string_view name) const { return find(name).has_value(); }

    const std::vector<SafetensorsFile>& files() const { return files_; }
    const std::filesystem::path& directory() const { return directory_; }
    std::uint64_t totalTensorBytes() const;
    // Hex SHA-256 over every shard's header, size and 64 evenly spaced 4 KiB samples of its data:
    // tells checkpoints apart (also random ones of the same shape) without reading gigabytes.
    std::string fingerprint() const;

private:
    std::filesystem::path directory_;
    std::vector<SafetensorsFile> files_;
    std::map<std::string, std::size_t, std::less<>> where_; // tensor name -> index in files_
};

// Writing (make-model, tests).
struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::span<const std::byte> bytes; // numel * byteSize(dtype) bytes, little-endian
};

// Header padded with spaces to a multiple of 8 bytes, tensors in the given order.
void writeSafetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                      const std::map<std::string, std::string>& metadata = {});

// The header bytes writeSafetensors would write (8-byte length + JSON), and the data size; for
// writers that stream tensor data themselves.
std::string safetensorsHeader(std::span<const TensorToWrite> tensors,
                              const std::map<std::string, std::string>& metadata = {});

} // namespace blocklens::engine
