// Temporary: replaced by the real tokenizer implementation (issue 2). Throws so nothing
// silently pretends to tokenize.
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"
namespace blocklens {
struct Tokenizer::Impl {};
Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer Tokenizer::fromFile(const std::filesystem::path&) { throw Error("tokenizer not implemented yet"); }
Tokenizer Tokenizer::fromJson(std::string_view, const std::string&) { throw Error("tokenizer not implemented yet"); }
Encoding Tokenizer::encode(std::string_view, bool) const { return {}; }
std::string Tokenizer::decode(std::span<const std::int32_t>, bool) const { return {}; }
std::size_t Tokenizer::vocabSize() const { return 0; }
std::optional<std::int32_t> Tokenizer::tokenToId(std::string_view) const { return {}; }
std::string Tokenizer::idToToken(std::int32_t) const { return {}; }
const std::string& Tokenizer::contentHash() const { static std::string s; return s; }
std::string Tokenizer::describe() const { return {}; }
}
