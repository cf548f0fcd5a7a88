#include "segmentation_runner.hpp"

#include "usecases/segmenters.hpp"
#include "util/error.hpp"

#include <QtConcurrent>

#include <chrono>

namespace blocklens::ui {

segment::Segmenter segmenterFor(const SegmentRequest& request)
{
    segment::SegmenterSpec spec = segment::findSegmenter(request.segmenter.toStdString()).spec();
    if (request.rules != 0 && spec.rules != 0)
        spec.rules = request.rules;
    if (request.scorer && spec.scorer)
        spec.scorer = request.scorer;
    return segment::Segmenter(std::move(spec));
}

SegmentResult runSegmentation(std::shared_ptr<const Document> doc, std::shared_ptr<const segment::TokenGrid> grid,
                              const SegmentRequest& request)
{
    SegmentResult r;
    r.document = doc;
    r.what = request;
    const auto start = std::chrono::steady_clock::now();
    try {
        const segment::Segmenter segmenter = segmenterFor(request);
        r.segmentation = segmenter.segment(*doc, *grid, request.options);
        if (segmenter.spec().scorer)
            r.scored = segmenter.score(*doc, *grid, request.options);
        for (std::size_t offset : r.segmentation.boundaries())
            r.boundaries.push_back({offset, 1});
    } catch (const Error& e) {
        r.error = QString::fromStdString(e.what());
    } catch (const std::exception& e) {
        r.error = QString::fromStdString(e.what());
    }
    r.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return r;
}

SegmentationRunner::SegmentationRunner(QObject* parent) : QObject(parent)
{
    connect(&watcher_, &QFutureWatcher<SegmentResult>::finished, this, [this] {
        running_ = false;
        const SegmentResult result = watcher_.result();
        if (result.request == pending_ && !hasQueued_) {
            pending_ = 0;
            Q_EMIT finished(result);
        }
        startNext();
    });
}

SegmentationRunner::~SegmentationRunner()
{
    watcher_.waitForFinished();
}

void SegmentationRunner::request(std::shared_ptr<const Document> doc, const SegmentRequest& request)
{
    queuedDoc_ = std::move(doc);
    queued_ = request;
    if (!queued_.scorer)
        queued_.scorer = scorerOverride(request.segmenter);
    hasQueued_ = true;
    startNext();
}

void SegmentationRunner::startNext()
{
    if (running_ || !hasQueued_)
        return;
    hasQueued_ = false;
    running_ = true;
    const quint64 id = next_++;
    pending_ = id;
    auto doc = queuedDoc_;
    // The token grid depends only on the document and the tokenizer: reuse it while they stay.
    std::shared_ptr<const segment::TokenGrid> grid = gridDoc_ == doc ? grid_ : nullptr;
    watcher_.setFuture(QtConcurrent::run([this, id, doc, grid, tokenizer = tokenizer_, file = tokenizerFile_,
                                          request = queued_]() mutable {
        if (!grid) {
            if (!tokenizer && !file.isEmpty()) {
                try {
                    tokenizer = std::make_shared<const Tokenizer>(Tokenizer::fromFile(file.toStdString()));
                } catch (const std::exception&) {
                    // The model's own load reports a broken tokenizer.json; sizes stay in approx-tokens.
                }
            }
            grid = std::make_shared<const segment::TokenGrid>(
                tokenizer ? segment::TokenGrid::fromEncoding(tokenizer->encode(doc->text()), doc->length(), std::string(segment::kModelTokenUnit))
                          : segment::TokenGrid::approximate(*doc));
        }
        SegmentResult r = runSegmentation(doc, grid, request);
        r.request = id;
        // Handing the grid back: written here, read on the UI thread only after finished(). A
        // tokenizer changed meanwhile makes this grid stale: it is not kept.
        QMetaObject::invokeMethod(this, [this, doc, grid, tokenizer, file] {
            if (file != tokenizerFile_)
                return;
            gridDoc_ = doc;
            grid_ = grid;
            tokenizer_ = tokenizer;
        }, Qt::QueuedConnection);
        return r;
    }));
}

void SegmentationRunner::setTokenizerFile(const QString& path)
{
    if (path == tokenizerFile_)
        return;
    tokenizerFile_ = path;
    tokenizer_.reset();
    gridDoc_.reset();
    grid_.reset();
}

void SegmentationRunner::setScorerOverride(const QString& segmenter, std::shared_ptr<const segment::Scorer> scorer)
{
    if (scorer)
        overrides_[segmenter] = std::move(scorer);
    else
        overrides_.erase(segmenter);
}

std::shared_ptr<const segment::Scorer> SegmentationRunner::scorerOverride(const QString& segmenter) const
{
    const auto it = overrides_.find(segmenter);
    return it == overrides_.end() ? nullptr : it->second;
}

} // namespace blocklens::ui
