#include "engine/model_bundle.hpp"

#include "engine/safetensors.hpp"
#include "util/error.hpp"

#include <string>

namespace blocklens::engine {
namespace fs = std::filesystem;

void checkVocabulary(const Tokenizer& tokenizer, const ModelConfig& config, const fs::path& tokenizerFile)
{
    if (static_cast<std::int64_t>(tokenizer.vocabSize()) > config.vocabSize)
        throw Error("the tokenizer has " + std::to_string(tokenizer.vocabSize()) + " tokens but the model's vocabulary has only " +
                        std::to_string(config.vocabSize) + ": they do not belong together",
                    {.file = tokenizerFile.string()});
}

ModelFiles readModelFiles(const fs::path& directory, const std::optional<fs::path>& tokenizer, TokenizerNeed need)
{
    requireModelDirectory(directory);
    // error_code overloads: a symbolic link loop is the loaders' one-line Error, not a filesystem_error.
    std::error_code ec;
    auto present = [&](const fs::path& p) { return fs::symlink_status(p, ec).type() != fs::file_type::not_found; };
    if (!present(directory / "config.json"))
        throw Error("no config.json in the model directory", {.file = directory.string()});
    ModelFiles files;
    files.directory = directory;
    files.config = ModelConfig::fromFile(directory / "config.json");
    if (tokenizer)
        files.tokenizerFile = *tokenizer;
    else if (present(directory / "tokenizer.json"))
        files.tokenizerFile = directory / "tokenizer.json";
    if (files.tokenizerFile.empty()) {
        if (need == TokenizerNeed::Required)
            throw Error("no tokenizer.json in the model directory (text needs the tokenizer the model was trained with)",
                        {.file = directory.string()});
        return files;
    }
    files.tokenizer = Tokenizer::fromFile(files.tokenizerFile);
    checkVocabulary(*files.tokenizer, files.config, files.tokenizerFile);
    return files;
}

std::string ModelBundle::tokenizerHash() const { return tokenizer ? tokenizer->contentHash() : std::string(); }

ModelBundle loadModelBundle(ModelFiles files, const LoadOptions& options, const Progress& progress)
{
    Model model = Model::load(files.directory, options, progress);
    return ModelBundle{std::move(model), std::move(files.tokenizer), std::move(files.tokenizerFile)};
}

} // namespace blocklens::engine
