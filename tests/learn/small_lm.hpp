#pragma once
// What the language-model tests (test_demo_lm, test_block_distill) train and run on: text of
// templated sentences that a small model learns in a few steps, a byte-level BPE tokenizer trained
// on it, and the small tied llama both build.
#include "engine/make_model.hpp"
#include "learn/lm/corpus.hpp"
#include "support/temp_files.hpp"
#include "tokenizer/bpe_trainer.hpp"

#include <QTemporaryDir>

#include <filesystem>
#include <string>
#include <string_view>

namespace blocklens::test {

// `documents` documents of `paragraphs` paragraphs, each `sentences` templated sentences ("The
// cache stores the keys. ") followed by `paragraphEnd`; every document ends with "\x1e\n" (the
// record separator lm::splitDocuments cuts at). One pseudo-random stream from `seed` picks the words.
inline std::string templatedCorpus(unsigned seed, int documents, int paragraphs, int sentences, std::string_view paragraphEnd)
{
    static const char* const subjects[] = {"The cache", "A block", "The model", "Each token", "The query"};
    static const char* const verbs[] = {"stores", "reads", "attends to", "skips", "rotates"};
    static const char* const objects[] = {"the keys.", "every block.", "the last token.", "its values.", "the prefix."};
    std::string out;
    unsigned s = seed;
    for (int d = 0; d < documents; ++d) {
        for (int p = 0; p < paragraphs; ++p) {
            for (int i = 0; i < sentences; ++i) {
                s = s * 1103515245u + 12345u;
                out += std::string(subjects[(s >> 8) % 5]) + " " + verbs[(s >> 12) % 5] + " " + objects[(s >> 16) % 5] + " ";
            }
            out += paragraphEnd;
        }
        out += "\x1e\n";
    }
    return out;
}

// A byte-level BPE tokenizer of `vocabSize` entries trained on the documents of `text`, written to
// `dir`/tokenizer.json; its path.
inline std::filesystem::path writeBpeTokenizer(const QTemporaryDir& dir, const std::string& text, std::size_t vocabSize = 320)
{
    BpeWordCounts counts;
    for (auto d : lm::splitDocuments(text))
        counts.add(d);
    BpeTrainerOptions options;
    options.vocabSize = vocabSize;
    return writeFile(dir, "tokenizer.json", trainByteLevelBpe(counts, options).json);
}

// The small llama the tests train: 2 layers, hidden 32, 4 heads (2 kv) of 8, MLP 64, the
// tokenizer's 320 ids, tied embeddings, BOS 0, EOS 1.
inline engine::ModelConfig smallTiedLlama()
{
    engine::ModelConfig c = engine::defaultConfig(engine::Architecture::Llama, 2, 32, 4, 2, 320, 64, 8);
    c.tieWordEmbeddings = true;
    c.bosTokenId = 0;
    c.eosTokenId = 1;
    return c;
}

} // namespace blocklens::test
