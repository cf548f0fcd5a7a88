#pragma once
// What the side-by-side window tests (test_compare_view, test_repair_view) start from: the test
// settings (no user's settings read or written), a small random model in a temporary folder and
// the demo document (about a thousand tokens in several sections), opened and segmented.
#include "annotation/annotation_session.hpp"
#include "inference_fixture.hpp"
#include "main_window.hpp"
#include "side_by_side_steps.hpp"

#include <QCoreApplication>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

namespace blocklens::test {

class WindowFixture {
protected:
    // From initTestCase.
    void setUpWindowFixture()
    {
        QCoreApplication::setOrganizationName(QStringLiteral("BlockLensTests"));
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(tmp_.isValid());
        modelDir_ = makeTestModel(tmp_);
        docPath_ = QStringLiteral(BLOCKLENS_SOURCE_DIR "/resources/demo/block-attention.md");
    }

    // Opens the demo document and waits for its segmentation (at least two cuts).
    void openDocument(ui::MainWindow& window)
    {
        QVERIFY(openAndSegment(window, docPath_));
    }

    QTemporaryDir tmp_;
    std::filesystem::path modelDir_;
    QString docPath_;
};

} // namespace blocklens::test
