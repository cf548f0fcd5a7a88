// tokenizer.json loading: any bytes as a tokenizer file. A file that loads must then encode and
// decode a fixed text without crashing, and give ids the tokenizer knows.
#include "fuzz_util.hpp"

#include "tokenizer/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace blocklens;
    fuzz::onlyProjectErrors("Tokenizer::fromJson", [&] {
        const Tokenizer tok = Tokenizer::fromJson(fuzz::bytes(data, size), "fuzz.json");
        // Short, but touches every path: ASCII words, digits, spaces, accents, CJK, an emoji,
        // a newline and text that looks like special tokens.
        const std::string text = "Hello  world 123\n caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 <s></s><|endoftext|>";
        for (const bool special : {false, true}) {
            const Encoding e = tok.encode(text, special);
            if (e.ids.size() != e.spans.size())
                fuzz::fail("Tokenizer::encode", "ids and spans differ in length");
            for (const auto id : e.ids)
                if (id < 0 || static_cast<std::size_t>(id) >= tok.vocabSize())
                    fuzz::fail("Tokenizer::encode", "id " + std::to_string(id) + " outside the vocabulary of "
                                                        + std::to_string(tok.vocabSize()));
            (void)tok.decode(e.ids, special);
        }
        (void)tok.describe();
    });
    return 0;
}
