#pragma once
// The block formats of the ecosystem, read into documents with boundaries and written back, one
// JSON object per line (issue 21). Each round-trips text and boundaries exactly; boundary levels
// are not part of these formats (imported boundaries are level 1, exported ones are every
// boundary). Metadata fields (id, category, variant, lang, source) are read where present and
// written, except in a server request.
//
//  block-attention          the Block-Attention repository's training records
//                           {"prompt": P, "blocks": [B1, ..., Bn], "response": R}: the document is
//                           the blocks in order, the last one the global block (the question);
//                           P, if present, must equal the blocks joined; R is not part of the
//                           document (written as "").
//  block-attention-request  its server's requests {"blocks": [B1, ..., Bn]} (last block global).
//  cacheblend               LMCache CacheBlend prompts {"prompt": "B1<sep>B2<sep>...Bn"}; the
//                           separator (default " # # ", LMCache's blend_special_str) is not part of
//                           the text. A block that contains the separator cannot be written.
//  chunk-offsets            chunk lists as chunking libraries emit them (chonkie, LangChain's
//                           start_index, text-splitter's chunk indices): {"chunks": [{"text": T,
//                           "start_index": S, "end_index": E}, ...]} or a bare array of such chunks;
//                           [S, E) is end-exclusive, counted in code points (Python str indices,
//                           the default), UTF-16 code units (JavaScript) or UTF-8 bytes (Rust).
//                           With a "text" field each chunk must be text[S:E] and chunks must not
//                           overlap (gaps join the block before them); without one the chunks must
//                           tile the text from 0, each starting where the previous ended.
// Every inconsistent or missing field is an Error naming the line and the field; nothing is
// guessed.
#include "document/dataset.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace blocklens {

enum class ExchangeFormat { Record, Chunks, BlockAttention, BlockAttentionRequest, CacheBlend, ChunkOffsets };
std::string_view toString(ExchangeFormat format);
// Throws Error listing the known names.
ExchangeFormat parseExchangeFormat(std::string_view name);
std::string exchangeFormatNames(); // "record, chunks, block-attention, ..."

enum class OffsetUnit { CodePoints, Utf16, Bytes };
std::string_view toString(OffsetUnit unit);
OffsetUnit parseOffsetUnit(std::string_view name); // codepoints | utf16 | bytes; throws Error

struct ExchangeOptions {
    std::string separator = " # # "; // cacheblend
    OffsetUnit offsets = OffsetUnit::CodePoints; // chunk-offsets
};

// One line of a file in `format` (record and chunks: parseDatasetRecord).
Document parseExchangeRecord(std::string_view line, std::int64_t lineNumber, const std::string& fileName,
                             ExchangeFormat format, const ExchangeOptions& options = {});
Dataset loadExchangeDataset(const std::filesystem::path& path, ExchangeFormat format, const ExchangeOptions& options = {},
                            const DatasetLoadOptions& load = {}, const Progress& progress = {});
// One JSON object, no newline. Throws Error for boundaries that do not fit the document or, in
// cacheblend, a block containing the separator.
std::string formatExchangeRecord(const Document& doc, const std::vector<Boundary>& boundaries, ExchangeFormat format,
                                 const ExchangeOptions& options = {});

} // namespace blocklens
