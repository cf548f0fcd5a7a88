#include "annotation/boundary_edits.hpp"

#include <QObject>

#include <algorithm>

namespace blocklens::ui {
namespace {

using Edit = store::AnnotationEdit;

std::vector<Boundary>::iterator find(std::vector<Boundary>& bs, std::size_t offset)
{
    auto it = std::lower_bound(bs.begin(), bs.end(), offset, [](const Boundary& b, std::size_t o) { return b.offset < o; });
    return it != bs.end() && it->offset == offset ? it : bs.end();
}

QString insert(std::vector<Boundary>& bs, std::size_t offset, int level, std::size_t length)
{
    if (offset == 0 || offset >= length)
        return QObject::tr("a boundary must be inside the text");
    auto it = std::lower_bound(bs.begin(), bs.end(), offset, [](const Boundary& b, std::size_t o) { return b.offset < o; });
    if (it != bs.end() && it->offset == offset)
        return QObject::tr("there is already a boundary here");
    bs.insert(it, Boundary{offset, level});
    return {};
}

} // namespace

QString applyEdit(std::vector<Boundary>& bs, const Edit& edit, std::size_t length)
{
    switch (edit.kind) {
    case Edit::Kind::Insert:
        if (edit.level < 1 || edit.level > 9)
            return QObject::tr("levels go from 1 to 9");
        return insert(bs, edit.offset, edit.level, length);
    case Edit::Kind::Delete: {
        const auto it = find(bs, edit.offset);
        if (it == bs.end())
            return QObject::tr("there is no boundary here");
        bs.erase(it);
        return {};
    }
    case Edit::Kind::Move: {
        const auto it = find(bs, edit.offset);
        if (it == bs.end())
            return QObject::tr("there is no boundary to move here");
        if (edit.newOffset == edit.offset)
            return QObject::tr("the boundary is already there");
        const int level = it->level;
        std::vector<Boundary> copy = bs;
        copy.erase(copy.begin() + (it - bs.begin()));
        if (QString why = insert(copy, edit.newOffset, level, length); !why.isEmpty())
            return why;
        bs = std::move(copy);
        return {};
    }
    case Edit::Kind::Level: {
        const auto it = find(bs, edit.offset);
        if (it == bs.end())
            return QObject::tr("there is no boundary here");
        if (edit.level < 1 || edit.level > 9)
            return QObject::tr("levels go from 1 to 9");
        if (it->level == edit.level)
            return QObject::tr("the boundary already has level %1").arg(edit.level);
        it->level = edit.level;
        return {};
    }
    }
    return QObject::tr("unknown edit");
}

Edit inverseEdit(const std::vector<Boundary>& before, const Edit& edit)
{
    auto levelOf = [&](std::size_t offset) {
        for (const auto& b : before)
            if (b.offset == offset)
                return b.level;
        return 1;
    };
    switch (edit.kind) {
    case Edit::Kind::Insert: return Edit::remove(edit.offset);
    case Edit::Kind::Delete: return Edit::insert(edit.offset, levelOf(edit.offset));
    case Edit::Kind::Move: return Edit::move(edit.newOffset, edit.offset);
    case Edit::Kind::Level: return Edit::setLevel(edit.offset, levelOf(edit.offset));
    }
    return edit;
}

} // namespace blocklens::ui
