#pragma once
// The segmenters a user picks by name (CLI --segmenter, the app's Segment panel, the dev-set
// evaluation). The catalogue lives above segment/ and learn/ because it holds both the heuristic
// segmenters and the learned one; the names stay in namespace segment, beside Segmenter.
#include "segment/segmenter.hpp"

#include <span>
#include <string_view>

namespace blocklens::segment {

// fixed, recursive, paragraphs, structural, texttiling, hybrid, learned, cut-markers (with the
// engine only), regex.
std::span<const Segmenter> builtinSegmenters();
// Throws Error naming the known segmenters.
const Segmenter& findSegmenter(std::string_view name);

} // namespace blocklens::segment
