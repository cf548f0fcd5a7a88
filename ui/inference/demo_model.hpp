#pragma once
// Where the bundled demo model (resources/models/demo: config.json, model.safetensors,
// tokenizer.json) is, looked for like the learned segmenter's model (core/learn/learned_scorer.hpp):
//   1. $BLOCKLENS_DEMO_MODEL (a directory), when set;
//   2. models/demo under <executable dir>/../share/blocklens, <executable dir>/resources,
//      <executable dir>/../resources, <executable dir>/../../resources;
//   3. resources/models/demo of the source tree this build was configured from.
// A directory counts only when it holds config.json.
#include <QString>
#include <QStringList>

namespace blocklens::ui {

// `relative` (e.g. "models/demo") under each place of step 2, then under the source tree's resources/.
QStringList resourceSearchPath(const QString& relative);
QStringList demoModelSearchPath();
QString findDemoModel(); // empty when there is none
QString sourceResourcesDir(); // resources/ of the source tree this build was configured from

} // namespace blocklens::ui
