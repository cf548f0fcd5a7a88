#pragma once
// The models shipped with BlockLens (issue 19): every directory with a config.json under
// resources/models/ (the demo model, the block-distilled demo model, ...), found like the demo
// model (inference/demo_model.hpp):
//   1. $BLOCKLENS_MODELS_DIR (a directory of model directories), when set;
//   2. models/ under <executable dir>/../share/blocklens, <executable dir>/resources,
//      <executable dir>/../resources, <executable dir>/../../resources;
//   3. resources/models of the source tree this build was configured from.
// The first of these that holds a model is used (an installed copy never mixes with the source
// tree's); the demo model (findDemoModel) is always first in the list.
#include <QString>
#include <QStringList>

#include <vector>

namespace blocklens::ui {

struct BundledModel {
    QString name;      // the directory's name ("demo", "demo-block-distilled")
    QString directory; // absolute
    QString summary;   // the first line of its README.md, without the heading's '#' (empty: none)
};

QStringList bundledModelRoots();
std::vector<BundledModel> findBundledModels(); // the demo model first, then by name

// The first non-empty line of `directory`/README.md without a leading "# "; empty without one.
QString readmeFirstLine(const QString& directory);

// The names a block-distilled counterpart goes by, in the order they are looked for: the
// counterpart of resources/models/demo is resources/models/demo-block-distilled (or demo-distill,
// demo-distilled), as `blocklens-cli train-block --out` is told to name it.
QStringList distilledSuffixes(); // "-block-distilled", "-distill", "-distilled"

// The block-distilled counterpart of the model in `baseDirectory`: a directory beside it named
// <name><suffix>, else the bundled model of such a name (suffixes in order). Empty when there is
// none (a directory counts only when it holds config.json).
QString findDistilledModel(const QString& baseDirectory);

} // namespace blocklens::ui
