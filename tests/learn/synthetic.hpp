#pragma once
// Synthetic labelled documents for the learned segmenter's tests: paragraphs of pseudo-random
// words; a new block starts after three blank lines, other paragraphs follow one blank line.
// Each block draws its words from its own small vocabulary (so cohesion agrees with the cue).
#include "document/dataset.hpp"
#include "document/document.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace blocklens::test {

inline Document syntheticDocument(std::uint32_t seed, int blocks = 6, std::string variant = "structured")
{
    std::mt19937 rng(seed);
    auto word = [&](int topic) {
        static const char* syllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fu", "go"};
        std::string w;
        const int n = 2 + static_cast<int>(rng() % 2);
        for (int i = 0; i < n; ++i)
            w += syllables[(static_cast<unsigned>(topic) * 5 + rng() % 4 + static_cast<unsigned>(i)) % 12];
        return w;
    };
    std::string text;
    std::vector<Boundary> boundaries;
    for (int b = 0; b < blocks; ++b) {
        if (b > 0) {
            text += "\n\n\n";
            boundaries.push_back({text.size(), 1}); // ASCII: bytes are code points
        }
        const int paragraphs = 2 + static_cast<int>(rng() % 3);
        for (int p = 0; p < paragraphs; ++p) {
            if (p > 0)
                text += "\n";
            const int lines = 2 + static_cast<int>(rng() % 3);
            for (int l = 0; l < lines; ++l) {
                std::string line = l == 0 ? "The" : "and";
                const int words = 6 + static_cast<int>(rng() % 5);
                for (int w = 0; w < words; ++w)
                    line += " " + word(static_cast<int>(seed) + b);
                text += line + (l + 1 == lines ? ".\n" : "\n");
            }
        }
    }
    DocumentMeta meta;
    meta.id = "synthetic-" + std::to_string(seed);
    meta.category = "synthetic";
    meta.variant = std::move(variant);
    meta.source = "synthetic/" + std::to_string(seed);
    return Document(text, meta, boundaries);
}

inline std::string syntheticDataset(std::uint32_t firstSeed, int documents)
{
    std::string out;
    for (int i = 0; i < documents; ++i) {
        const Document d = syntheticDocument(firstSeed + static_cast<std::uint32_t>(i));
        out += formatDatasetRecord(d, d.reference()) + "\n";
    }
    return out;
}

} // namespace blocklens::test
