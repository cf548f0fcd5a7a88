#pragma once
// FLOPs of a forward pass counted from shapes: a multiply-add is 2 FLOPs; matrix products only
// (projections, attention scores and their weighted sum, the LM head). Norms, RoPE, softmax and
// elementwise work are left out (a few percent at most).
#include "engine/model_config.hpp"

#include <cstdint>
#include <optional>

namespace blocklens::engine {

struct FlopCount {
    double linear = 0;    // q/k/v/o projections and the MLP, every layer
    double attention = 0; // QK^T and PV over the (query, key) pairs actually attended, every layer
    double lmHead = 0;    // logits rows x vocab
    double total() const { return linear + attention + lmHead; }
    FlopCount& operator+=(const FlopCount& o)
    {
        linear += o.linear;
        attention += o.attention;
        lmHead += o.lmHead;
        return *this;
    }
};

// (query, key) pairs for queries at slots [q0, q0 + n) over keys from slot k0 on, under the causal
// rule (key slot <= query slot) and an optional sliding window (query - key < window).
std::int64_t attendedPairs(std::int64_t q0, std::int64_t n, std::int64_t k0, std::optional<std::int64_t> window);

FlopCount forwardFlops(const ModelConfig& config, std::int64_t tokens, std::int64_t pairs, std::int64_t logitsRows);

} // namespace blocklens::engine
