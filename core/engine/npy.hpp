#pragma once
// NumPy .npy files (format version 1.0), float32 only: what `logits --out` writes and what the
// golden logits of the engine fixtures are stored in.
#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace blocklens::engine {

struct NpyArray {
    std::vector<std::int64_t> shape;
    std::vector<float> data; // C order
};

// Writes '<f4', C order. Throws Error if data.size() does not match the shape or writing fails.
void writeNpy(const std::filesystem::path& path, std::span<const float> data, std::span<const std::int64_t> shape);

// Reads '<f4' (or '<f8', converted), C order, versions 1.0 to 3.0. Throws Error naming the file.
NpyArray readNpy(const std::filesystem::path& path);

} // namespace blocklens::engine
