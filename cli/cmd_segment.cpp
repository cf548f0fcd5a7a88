// blocklens-cli segment FILE: cut one document into blocks with a named segmenter.
#include "cli/command.hpp"
#include "cli/input.hpp"
#include "cli/segment_args.hpp"
#include "usecases/segmenters.hpp"
#include "store/store.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <ostream>

namespace blocklens::cli {
namespace {

using json = nlohmann::ordered_json;

// The first line of a block, shortened, with control characters made visible.
std::string preview(const Document& doc, const segment::Block& b, std::size_t maxCodePoints = 60)
{
    std::size_t begin = b.begin;
    const std::string& text = doc.text();
    // Skip leading blank lines so the preview shows the block's first text.
    std::size_t byte = doc.byteOffset(begin);
    while (byte < text.size() && (text[byte] == '\n' || text[byte] == '\r' || text[byte] == ' ' || text[byte] == '\t')) {
        ++byte;
        ++begin;
    }
    const std::size_t end = std::min(b.end, begin + maxCodePoints);
    std::string out;
    for (char c : doc.slice(begin, end)) {
        if (c == '\n')
            break;
        out += (c == '\t') ? ' ' : c;
    }
    return out;
}

struct Recorded {
    std::filesystem::path db;
    store::Id documentId = 0, segmentationId = 0;
};

// Stores the segmentation (and the document if new) in the workspace at `db`, in one transaction.
Recorded record(const std::filesystem::path& db, const Document& doc, const segment::Segmentation& seg)
{
    auto st = store::Store::open(db);
    std::vector<Boundary> boundaries;
    for (std::size_t offset : seg.boundaries())
        boundaries.push_back({offset, 1});
    Recorded r{std::filesystem::absolute(st.path()), 0, 0};
    r.segmentationId = st.recordSegmentation(doc, seg.provenance.segmenter, seg.parametersJson(), boundaries,
                                             recordAuthor());
    r.documentId = st.segmentationInfo(r.segmentationId).documentId;
    return r;
}

segment::TokenGrid makeGrid(const Document& doc, const std::optional<Tokenizer>& tokenizer)
{
    if (!tokenizer)
        return segment::TokenGrid::approximate(doc);
    return segment::TokenGrid::fromEncoding(tokenizer->encode(doc.text()), doc.length(), tokenizer->describe());
}

} // namespace

Command segmentCommand()
{
    ArgSpec spec("segment FILE [--segmenter NAME] [--target-tokens N | --blocks N | --threshold T --depth D] "
                 "[--tokenizer PATH] [--db PATH] [--json]",
                 "Cut a document into blocks: candidates -> scores -> decoder, within a hard maximum size. "
                 "Blocks are numbered from #1, as in the app; begin and end count code points from 0.");
    spec.positional("FILE", "a document (text, Markdown, source code)")
        .option("segmenter", "NAME", "see 'blocklens-cli segmenters'", std::string(segment::kDefaultSegmenter));
    addSegmentOptions(spec)
        .option("tokenizer", "PATH", "tokenizer.json: measure sizes in its tokens (default: approx-tokens)")
        .flag("replace-invalid", "replace invalid UTF-8 with U+FFFD instead of failing");
    addRecordOption(spec).flag("json", "print JSON: blocks, boundaries and provenance");
    return {"segment", spec, [](const ArgSpec::Parsed& a, Io& io) {
                const std::filesystem::path path = a.positionals[0];
                if (isDatasetPath(path))
                    throw UsageError{"segment takes one document; for a dataset use 'eval DATASET --predictions OUT.jsonl'"};
                const auto& segmenter = segment::findSegmenter(a.value("segmenter"));
                const auto options = readSegmentOptions(a);
                const auto db = recordPath(a);
                const auto tokenizer = loadOptionalTokenizer(a.optional("tokenizer"));
                const Document doc = loadInputDocument(path, {a.flag("replace-invalid")}, io.err);
                const auto grid = makeGrid(doc, tokenizer);
                const auto seg = segmenter.segment(doc, grid, options);
                std::optional<Recorded> recorded;
                if (db) {
                    recorded = record(*db, doc, seg);
                    io.err << "recorded segmentation " << recorded->segmentationId << " of document "
                           << recorded->documentId << " in " << recorded->db.string() << "\n";
                }
                if (a.flag("json")) {
                    json j;
                    j["document"] = {{"source", doc.meta().source}, {"id", doc.meta().id},
                                     {"code_points", doc.length()}, {"tokens", grid.size()}};
                    j["segmenter"] = seg.provenance.segmenter;
                    j["version"] = seg.provenance.version;
                    j["token_unit"] = seg.provenance.tokenUnit;
                    json params = json::object();
                    for (const auto& [k, v] : seg.provenance.parameters)
                        params[k] = v;
                    j["parameters"] = params;
                    json blocks = json::array();
                    for (const auto& b : seg.blocks)
                        blocks.push_back({{"number", blocks.size() + 1}, {"begin", b.begin}, {"end", b.end}, {"tokens", b.tokens()},
                                          {"token_begin", b.tokenBegin}, {"token_end", b.tokenEnd}});
                    j["blocks"] = blocks;
                    j["boundaries"] = seg.boundaries();
                    if (recorded)
                        j["recorded"] = {{"db", recorded->db.string()}, {"document_id", recorded->documentId},
                                         {"segmentation_id", recorded->segmentationId}};
                    io.out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
                    return 0;
                }
                io.out << path.string() << ": " << seg.blocks.size() << " blocks, " << grid.size() << " "
                       << grid.unit() << " (segmenter " << seg.provenance.segmenter << ")\n";
                io.out << "block\tbegin\tend\ttokens\tstarts with\n";
                for (std::size_t i = 0; i < seg.blocks.size(); ++i) {
                    const auto& b = seg.blocks[i];
                    io.out << '#' << i + 1 << "\t" << b.begin << "\t" << b.end << "\t" << b.tokens() << "\t" << preview(doc, b) << "\n";
                }
                return 0;
            }};
}

} // namespace blocklens::cli
