#pragma once
// Where the bundled demo document (resources/demo/block-attention.md) is: what `blocklens`
// opens when no file is named. Looked for like the demo model (inference/demo_model.hpp):
//   1. demo/block-attention.md under <executable dir>/../share/blocklens, <executable dir>/resources,
//      <executable dir>/../resources, <executable dir>/../../resources;
//   2. resources/demo/block-attention.md of the source tree this build was configured from.
#include <QString>
#include <QStringList>

namespace blocklens::ui {

QStringList demoDocumentSearchPath();
QString findDemoDocument(); // empty when there is none

} // namespace blocklens::ui
