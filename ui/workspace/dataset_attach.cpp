#include "dataset_attach.hpp"

#include <optional>
#include <string>
#include <system_error>

namespace blocklens::ui {

AttachedDataset attachDataset(store::Store& db, const Dataset& dataset, const std::filesystem::path& source)
{
    std::error_code ec;
    const auto canonical = [&ec](const std::filesystem::path& p) { return std::filesystem::weakly_canonical(p, ec).string(); };
    const std::string path = canonical(source);
    std::optional<store::Id> found;
    for (const auto& info : db.listDatasets()) {
        if (info.rows != dataset.documents.size() || (found && canonical(info.sourcePath) != path))
            continue;
        const auto rows = db.datasetRows(info.id);
        bool same = rows.size() == dataset.documents.size();
        for (std::size_t i = 0; same && i < rows.size(); ++i)
            same = db.documentInfo(rows[i].documentId).contentHash == dataset.documents[i].contentHash();
        if (same)
            found = info.id;
    }
    if (!found) {
        // The file's name without its last extension ("dev.v2.jsonl" -> "dev.v2"), as the Open dialog shows it.
        const std::string base = source.stem().string();
        store::ImportOptions options;
        options.name = base;
        for (int n = 2; db.findDataset(options.name); ++n)
            options.name = base + "-" + std::to_string(n);
        found = db.importDataset(dataset, options).datasetId;
    }
    AttachedDataset out;
    out.datasetId = *found;
    for (const auto& row : db.datasetRows(*found)) {
        out.currentBoundaries.push_back(db.boundaries(row.currentSegmentationId));
        out.reviewed.push_back(row.reviewed);
    }
    return out;
}

} // namespace blocklens::ui
