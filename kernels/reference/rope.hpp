#pragma once
// CPU reference for RoPE re-encoding (kernels/rope_reencode.cuh), in double.
//
// Llama-style rotary embedding in the rotate_half layout of Hugging Face: dimension i of a head is
// paired with dimension i + head_dim/2 and the pair is rotated by the angle position * inv_freq[i]:
//   out[i]          = x[i] * cos(a) - x[i + half] * sin(a)
//   out[i + half]   = x[i + half] * cos(a) + x[i] * sin(a)
// Rotations compose: rotating a key encoded at position p by delta gives the key encoded at
// p + delta. Re-encoding a cached block therefore only needs delta = new offset - old offset.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace blocklens::kernels::ref {

// The `rope_scaling` entry of a Hugging Face config.json (type "default", "linear" or "llama3").
struct RopeScaling {
    std::string type = "default";
    double factor = 1.0;               // linear and llama3
    double lowFreqFactor = 1.0;        // llama3
    double highFreqFactor = 4.0;       // llama3
    double originalMaxPositions = 8192; // llama3: original_max_position_embeddings
};

// inv_freq [head_dim/2] as transformers computes it (fp32 values; computed here in double and
// rounded once, so a value may differ from PyTorch's fp32 arithmetic in the last bit):
//   inv_freq[i] = 1 / theta^(2i / head_dim), then the llama3 or linear schedule.
// Throws std::invalid_argument for an odd head_dim, theta <= 1, or an unknown type.
std::vector<float> ropeInvFreq(int headDim, double theta, const RopeScaling& scaling = {});

// Rotates one head row [head_dim] in place by angles position * inv_freq[i] (in double).
void ropeRotate(std::span<double> row, std::span<const float> invFreq, double position);

// One block of re-encoding: `length` token rows starting at `srcStart` in the source are rotated by
// `delta` positions and written to rows starting at `dstStart` of the destination.
struct RopeBlockRef {
    std::int64_t srcStart = 0;
    std::int64_t dstStart = 0;
    std::int64_t length = 0;
    std::int64_t delta = 0;
};

// src [outer][srcTokens][head_dim] and dst [outer][dstTokens][head_dim], contiguous; outer stands
// for layers x heads. Rows of dst that no block writes keep their values. src and dst may be the
// same array (in place) when every block has srcStart == dstStart.
void ropeReencodeRef(std::span<const double> src, std::int64_t srcTokens, std::span<double> dst,
                     std::int64_t dstTokens, std::int64_t outer, int headDim,
                     std::span<const RopeBlockRef> blocks, std::span<const float> invFreq);

} // namespace blocklens::kernels::ref
