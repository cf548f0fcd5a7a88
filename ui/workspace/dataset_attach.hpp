#pragma once
// The policy for opening a dataset in a workspace: a file opened again finds its earlier import
// (the same texts in the same order; the same file path is preferred when several match), so
// that its corrections come back; otherwise it is imported under its file name, made unique.
// Plain C++ over core/store (no Qt), so that it can move into core with the store module.
#include "document/dataset.hpp"
#include "store/store.hpp"

#include <filesystem>
#include <vector>

namespace blocklens::ui {

struct AttachedDataset {
    store::Id datasetId = 0;
    // Per row, in the dataset's order: the current (corrected) boundaries and the review status.
    std::vector<std::vector<Boundary>> currentBoundaries;
    std::vector<bool> reviewed;
};

// Finds or imports `dataset` (read from `source`) in `db` and reads back its rows' state.
// Throws the store's Error when the workspace cannot be read or written.
AttachedDataset attachDataset(store::Store& db, const Dataset& dataset, const std::filesystem::path& source);

} // namespace blocklens::ui
