#include "feature_host.hpp"

#include <QAction>
#include <QMainWindow>
#include <QMenu>

namespace blocklens::ui {

QAction* addMenuAction(FeatureHost& host, FeatureHost::Menu menu, const char* name, const QString& text,
                       const QList<QKeySequence>& keys, bool alsoOnWindow)
{
    QAction* a = host.menu(menu)->addAction(text);
    a->setObjectName(QLatin1String(name));
    a->setShortcuts(keys);
    if (alsoOnWindow)
        host.window()->addAction(a);
    return a;
}

} // namespace blocklens::ui
