#pragma once
// Applies one annotation edit to an in-memory boundary list (what the view shows at once, while
// the store writes the same edit on its own thread) and builds the edit that undoes it.
#include "document/document.hpp"
#include "store/store.hpp"

#include <QString>

#include <vector>

namespace blocklens::ui {

// Returns an empty string on success; otherwise why the edit is not possible (the list is
// unchanged): a boundary already there, none to delete, outside the text...
QString applyEdit(std::vector<Boundary>& boundaries, const store::AnnotationEdit& edit, std::size_t documentLength);

// The edit that restores `before` after `edit` was applied to it.
store::AnnotationEdit inverseEdit(const std::vector<Boundary>& before, const store::AnnotationEdit& edit);

} // namespace blocklens::ui
