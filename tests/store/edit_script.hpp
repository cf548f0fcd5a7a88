#pragma once
// The deterministic batch of annotation edits that store_helper makes in a separate process
// (concurrency and SIGKILL tests), and the boundaries expected after the first k of them.
//
// Edit i (0-based): every 4th edit (i % 4 == 3) changes the level of the boundary inserted last;
// the others insert a boundary at the next offset 1, 2, 3, ... with level 1 + (inserts % 3).
// The target document must be longer than the number of inserts + 1 code points.
#include "store/store.hpp"

#include <cstddef>
#include <vector>

namespace blocklens::test {

inline store::AnnotationEdit scriptedEdit(std::size_t i)
{
    const std::size_t inserts = i - i / 4; // inserts made before edit i
    if (i % 4 == 3)
        return store::AnnotationEdit::setLevel(inserts, 4 + static_cast<int>(inserts % 5));
    return store::AnnotationEdit::insert(inserts + 1, 1 + static_cast<int>(inserts % 3));
}

inline std::vector<Boundary> expectedAfterEdits(std::size_t k)
{
    std::vector<Boundary> bs;
    for (std::size_t i = 0; i < k; ++i) {
        const auto e = scriptedEdit(i);
        if (e.kind == store::AnnotationEdit::Kind::Insert)
            bs.push_back({e.offset, e.level});
        else
            bs.back().level = e.level;
    }
    return bs;
}

} // namespace blocklens::test
