// Encoding: any bytes (made valid UTF-8 the way --replace-invalid does) through the real
// tokenizers of the project: the demo model's and the Llama 2, Llama 3 and Qwen3 fixtures. The
// first byte picks the tokenizer and whether special tokens are added.
#include "fuzz_util.hpp"

#include "tokenizer/tokenizer.hpp"
#include "util/utf8.hpp"

#include <memory>

namespace {

struct Loaded {
    std::string name;
    blocklens::Tokenizer tokenizer;
    bool roundTrips; // decode(encode(text)) == text for every valid text (byte-level, no normalizer)
};

std::vector<Loaded>& tokenizers()
{
    static std::vector<Loaded> all;
    return all;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    using blocklens::Tokenizer;
    const std::filesystem::path fixtures = BLOCKLENS_FIXTURES_DIR "/tokenizers";
    const std::filesystem::path source = BLOCKLENS_SOURCE_DIR;
    try {
        tokenizers().push_back({"demo", Tokenizer::fromFile(source / "resources/models/demo/tokenizer.json"), true});
        tokenizers().push_back({"llama3", Tokenizer::fromFile(fixtures / "llama3/tokenizer.json"), true});
        tokenizers().push_back({"qwen3", Tokenizer::fromFile(fixtures / "qwen3/tokenizer.json"), false}); // NFC
        tokenizers().push_back({"llama2", Tokenizer::fromFile(fixtures / "llama2/tokenizer.json"), false}); // metaspace
    } catch (const std::exception& e) {
        blocklens::fuzz::fail("fuzz_encode setup", e.what());
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace blocklens;
    if (size == 0)
        return 0;
    const Loaded& chosen = tokenizers()[data[0] % tokenizers().size()];
    const Tokenizer& tok = chosen.tokenizer;
    const bool special = (data[0] / tokenizers().size()) % 2 == 1;
    const std::string text = utf8::replaceInvalid(fuzz::bytes(data + 1, size - 1)).text;
    const std::string where = "encode (" + chosen.name + ")";
    fuzz::onlyProjectErrors(where.c_str(), [&] {
        const Encoding e = tok.encode(text, special);
        const std::size_t length = utf8::countCodePoints(text);
        if (e.ids.size() != e.spans.size())
            fuzz::fail(where.c_str(), "ids and spans differ in length");
        for (std::size_t i = 0; i < e.ids.size(); ++i) {
            if (e.ids[i] < 0 || static_cast<std::size_t>(e.ids[i]) >= tok.vocabSize())
                fuzz::fail(where.c_str(), "id " + std::to_string(e.ids[i]) + " outside the vocabulary");
            if (e.spans[i].begin > e.spans[i].end || e.spans[i].end > length)
                fuzz::fail(where.c_str(), "span [" + std::to_string(e.spans[i].begin) + ", "
                                              + std::to_string(e.spans[i].end) + ") outside a text of "
                                              + std::to_string(length) + " code points");
        }
        const std::string decoded = tok.decode(e.ids, special);
        if (chosen.roundTrips && !special && decoded != text)
            fuzz::fail(where.c_str(), "decode(encode(text)) differs from the text");
    });
    return 0;
}
