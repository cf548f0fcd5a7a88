#include "inference/second_model.hpp"

#include "engine/block_kv_cache.hpp"
#include "engine/model.hpp"
#include "engine/model_bundle.hpp"
#include "engine/runner.hpp"
#include "usecases/model_comparison.hpp"

#include <QFileInfo>

namespace blocklens::ui {

SecondModel::SecondModel() : cache_(std::make_unique<engine::BlockKvCache>()) {}

SecondModel::~SecondModel() = default;

const engine::Runner& SecondModel::prepare(const QString& directory, const engine::Model& base, const std::optional<Tokenizer>& baseTokenizer,
                                           const std::filesystem::path& baseTokenizerFile, std::int64_t tokens, const Progress& progress)
{
    const QString absolute = QFileInfo(directory).absoluteFilePath();
    const std::filesystem::path dir = absolute.toStdString();
    // config.json and tokenizer.json first: a model that reads text differently is refused before
    // its weights are read (and also when it is already held: the base model may have changed).
    engine::ModelFiles files = engine::readModelFiles(dir);
    const std::filesystem::path otherTokenizerFile = files.tokenizer ? files.tokenizerFile : dir / "tokenizer.json";
    usecases::requireSharedTokenizer({baseTokenizer, baseTokenizerFile}, {files.tokenizer, otherTokenizerFile});

    const std::string key = dir.string() + '\n' + base.device() + '\n' + std::string(engine::toString(base.dtype()));
    if (runner_ && key == key_)
        return *runner_;
    reset();
    engine::LoadOptions options;
    options.device = base.device();
    options.dtype = base.dtype();
    options.maxTokens = tokens;
    engine::ModelBundle bundle = engine::loadModelBundle(std::move(files), options, progress);
    runner_ = std::make_unique<engine::Runner>(std::move(bundle.model), cache_.get());
    directory_ = absolute;
    key_ = key;
    return *runner_;
}

void SecondModel::reset()
{
    runner_.reset();
    cache_->clear();
    directory_.clear();
    key_.clear();
}

QString SecondModel::name() const
{
    return QFileInfo(directory_).fileName();
}

QString SecondModel::directory() const
{
    return directory_;
}

} // namespace blocklens::ui
