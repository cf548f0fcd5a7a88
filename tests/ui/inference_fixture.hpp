#pragma once
// A small random checkpoint with a real tokenizer (Llama 2's 32000-token tokenizer.json from the
// fixtures) written into a temporary directory, for the desktop app's inference tests.
#include "engine/make_model.hpp"
#include "support/temp_files.hpp"

#include <QTemporaryDir>

#include <filesystem>

namespace blocklens::test {

inline std::filesystem::path makeTestModel(const QTemporaryDir& dir, const std::string& name = "tiny-llama", std::uint64_t seed = 7)
{
    engine::MakeModelOptions o;
    // 2 layers, GQA (4 query heads over 2 KV heads), vocabulary of the tokenizer.
    o.config = engine::defaultConfig(engine::Architecture::Llama, 2, 64, 4, 2, 32000, 128, 16);
    o.config.tieWordEmbeddings = true;
    o.config.eosTokenId.reset(); // generations always run to their full length
    o.seed = seed;
    o.tokenizer = fixturesDir() / "tokenizers" / "llama2" / "tokenizer.json";
    const auto out = std::filesystem::path(dir.path().toStdString()) / name;
    engine::makeModel(o, out);
    return out;
}

// A document of a few hundred tokens with paragraphs to cut at.
inline std::string testDocumentText()
{
    return "Block attention splits a long input into blocks.\n\n"
           "Each block is encoded on its own, so its keys and values can be cached and reused "
           "whenever the same passage appears again, in any position.\n\n"
           "The last block is the query. It attends to every block before it, which is what lets "
           "the model answer questions about the whole input.\n\n"
           "Where the cuts fall matters: a cut through the middle of an argument hides one half "
           "from the other, and the model's answers drift from those of full attention.\n";
}

} // namespace blocklens::test
