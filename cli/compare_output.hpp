#pragma once
// What `compare` prints (text or --json), the same whether the comparison ran in this process or
// on a server (`compare --server URL`, issue 22).
#include "cli/command.hpp"
#include "engine/repairs.hpp"
#include "usecases/comparison.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace blocklens::cli {

struct ComparisonOutput {
    std::string model;           // --model DIR, or the server's address
    std::string device, dtype;   // where it ran
    std::string fingerprint;     // set for a server's model (printed in --json as "fingerprint")
    std::int64_t trainedContext = 0; // max_position_embeddings (0: unknown)
    std::string segmenter;
    engine::AttentionVariant reference, compared;
    const usecases::ComparisonInput* input = nullptr;
    const usecases::ComparisonReport* report = nullptr;
    std::optional<std::string> referenceText, comparedText; // decoded continuations; none without a tokenizer
    double temperature = 0;
    std::int64_t maxNewTokens = 0;
};

void printComparison(const ComparisonOutput& out, bool json, Io& io);

} // namespace blocklens::cli
