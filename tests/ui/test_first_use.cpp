// What a new user meets first (issue 15), on the app's side: edits saved on a fresh home, block
// sizes in the loaded model's tokens ("1 token"), code in a fixed-pitch font without soft wrap,
// and the Model panel's memory estimate for the open document's length.
#include "annotation/store_writer.hpp"
#include "document_view.hpp"
#include "segmentation_runner.hpp"
#include "store/store.hpp"
#include "support/temp_files.hpp"
#include "theme.hpp"
#include "tokenizer/tokenizer.hpp"
#if BLOCKLENS_WITH_TORCH
#include "inference/inference_worker.hpp"
#include "inference/model_panel.hpp"
#endif

#include <QSignalSpy>
#include <QtTest>

using namespace blocklens;
using namespace blocklens::ui;

namespace {

// Sets an environment variable for one scope.
struct ScopedEnv {
    QByteArray name, old;
    bool had;
    ScopedEnv(const char* n, const QByteArray& value) : name(n), old(qgetenv(n)), had(qEnvironmentVariableIsSet(n))
    {
        if (value.isNull())
            qunsetenv(n);
        else
            qputenv(n, value);
    }
    ~ScopedEnv()
    {
        if (had)
            qputenv(name.constData(), old);
        else
            qunsetenv(name.constData());
    }
};

} // namespace

class TestFirstUse : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Item 1: with no $XDG_DATA_HOME/blocklens/ yet, an edit (S) is saved: the default workspace
    // is created by whatever writes to it first.
    void editIsSavedOnAFreshHome()
    {
        QTemporaryDir home;
        ScopedEnv xdg("XDG_DATA_HOME", QFile::encodeName(home.path() + QStringLiteral("/share")));
        ScopedEnv db("BLOCKLENS_DB", QByteArray());
        const auto workspace = store::resolveWorkspacePath(std::nullopt);
        QVERIFY(!std::filesystem::exists(workspace.parent_path()));
        {
            StoreWriter writer(QString::fromStdString(workspace.string()));
            QSignalSpy failed(&writer, &StoreWriter::writeFailed);
            QSignalSpy written(&writer, &StoreWriter::written);
            auto doc = std::make_shared<const Document>("First paragraph.\n\nSecond paragraph.\n");
            writer.beginDocument(1, doc, QStringLiteral("hybrid"), QStringLiteral("{}"), {}, QStringLiteral("tester"));
            writer.applyEdit(1, store::AnnotationEdit::insert(18, 1), QStringLiteral("tester"));
            writer.flush();
            QCOMPARE(failed.size(), 0);
            QVERIFY(written.size() >= 1);
        }
        QVERIFY(std::filesystem::exists(workspace));
        QCOMPARE(store::Store::open(workspace, {.mode = store::OpenMode::Existing}).info().annotationEvents >= 1, true);
    }

    // Item 11: with a model's tokenizer, block sizes are in its tokens ("tokens", not
    // "approx-tokens"); counts read "1 token", "2 tokens".
    void blockSizesUseTheModelTokenizer()
    {
        QCOMPARE(QString::fromStdString(segment::formatTokenCount(1, segment::kModelTokenUnit)), QStringLiteral("1 token"));
        QCOMPARE(QString::fromStdString(segment::formatTokenCount(2, segment::kModelTokenUnit)), QStringLiteral("2 tokens"));
        QCOMPARE(QString::fromStdString(segment::formatTokenCount(1, segment::kApproxTokenUnit)), QStringLiteral("1 approx-token"));

        const auto tokenizerFile = test::fixturesDir() / "tokenizers" / "llama2" / "tokenizer.json";
        auto doc = std::make_shared<const Document>("Internationalization considerations.\n\nAnother paragraph here.\n");
        SegmentationRunner runner;
        QSignalSpy finished(&runner, &SegmentationRunner::finished);
        runner.request(doc, {});
        QVERIFY(finished.wait(10000));
        QTRY_VERIFY(runner.grid() != nullptr);
        QCOMPARE(QString::fromStdString(runner.grid()->unit()), QStringLiteral("approx-tokens"));

        runner.setTokenizerFile(QString::fromStdString(tokenizerFile.string()));
        QVERIFY(runner.grid() == nullptr); // rebuilt on the next request
        runner.request(doc, {});
        QVERIFY(finished.wait(10000));
        QTRY_VERIFY(runner.grid() != nullptr);
        QCOMPARE(QString::fromStdString(runner.grid()->unit()), QStringLiteral("tokens"));
        const Tokenizer tok = Tokenizer::fromFile(tokenizerFile);
        const auto expected = segment::TokenGrid::fromEncoding(tok.encode(doc->text()), doc->length(), "tokens").size();
        QCOMPARE(runner.grid()->size(), expected);
        QVERIFY(expected != segment::TokenGrid::approximate(*doc).size()); // the test can tell them apart

        runner.setTokenizerFile({});
        runner.request(doc, {});
        QVERIFY(finished.wait(10000));
        QTRY_VERIFY(runner.grid() != nullptr);
        QCOMPARE(QString::fromStdString(runner.grid()->unit()), QStringLiteral("approx-tokens"));
    }

    // Item 14: source code keeps its columns (fixed pitch, no soft wrap); prose wraps.
    void codeIsMonospacedWithoutWrap()
    {
        DocumentView view;
        DocumentMeta meta;
        meta.kind = DocumentKind::SourceCode;
        view.showDocument(Document("def f():\n    return 1\n", meta), {});
        QCOMPARE(view.lineWrapMode(), QPlainTextEdit::NoWrap);
        QCOMPARE(view.font(), monospaceFont());
        view.showDocument(Document("Some prose that may wrap.\n"), {});
        QCOMPARE(view.lineWrapMode(), QPlainTextEdit::WidgetWidth);
        QCOMPARE(view.font(), documentFont());
    }

#if BLOCKLENS_WITH_TORCH
    // Item 3: the Model panel's memory estimate is for the open document's length (plus room for
    // a query and a continuation), not a fixed 8,192 tokens.
    void modelPanelEstimateFollowsTheDocument()
    {
        const auto tokenizerFile = test::fixturesDir() / "tokenizers" / "llama2" / "tokenizer.json";
        QVERIFY(std::filesystem::exists(tokenizerFile));
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("model")));
        const auto config = test::writeFile(dir, "model/config.json",
            R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 32000, "hidden_size": 64,
                "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "torch_dtype": "float32"})");
        InferenceWorker worker;
        ModelPanel panel(&worker);
        panel.setDirectory(QString::fromStdString(config.parent_path().string()));
        QTRY_VERIFY_WITH_TIMEOUT(panel.detailsText().contains(QStringLiteral("parameters")), 10000);
        QVERIFY2(panel.detailsText().contains(QStringLiteral("for 8192 tokens (no document open)")), qPrintable(panel.detailsText()));
        const QString noDocument = panel.detailsText();
        panel.setDocumentTokens(1000);
        QCOMPARE(panel.plannedTokens(), qint64(1512));
        QTRY_VERIFY_WITH_TIMEOUT(panel.detailsText().contains(QStringLiteral("for 1512 tokens")), 10000);
        QVERIFY(!panel.detailsText().contains(QStringLiteral("trained context")));
        const QString small = panel.detailsText();
        panel.setDocumentTokens(28000);
        QTRY_VERIFY_WITH_TIMEOUT(panel.detailsText().contains(QStringLiteral("for 28512 tokens")), 10000);
        QVERIFY(panel.detailsText() != small && small != noDocument);
        QVERIFY2(panel.detailsText().contains(QStringLiteral("trained context of 2048 tokens")), qPrintable(panel.detailsText()));
    }
#endif
};

QTEST_MAIN(TestFirstUse)
#include "test_first_use.moc"
