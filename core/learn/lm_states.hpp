#pragma once
// LmStates from a language model loaded by the engine (built only with BLOCKLENS_WITH_TORCH):
// the document is tokenized with the model's tokenizer.json and run under full attention in
// windows of `windowTokens` tokens, each window preceded by up to windowTokens / 4 tokens of
// context that are run but not kept (so every kept token has context, and the cost stays linear
// in the document length). The final-norm hidden states (RunRequest::wantHidden) are scaled to
// unit length.
#include "engine/model.hpp"
#include "learn/features.hpp"
#include "tokenizer/tokenizer.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace blocklens::learn {

class EngineLmSource final : public LmStateSource {
public:
    // Throws Error (model or tokenizer missing or invalid, a window under 16 tokens).
    static std::shared_ptr<const EngineLmSource> load(const std::filesystem::path& directory,
                                                      const engine::LoadOptions& options = {},
                                                      std::size_t windowTokens = 1024);
    LmStates states(const Document& doc) const override;
    std::string describe() const override;

    const engine::Model& model() const;

    struct State;

private:
    explicit EngineLmSource(std::shared_ptr<const State> state) : state_(std::move(state)) {}
    std::shared_ptr<const State> state_;
};

} // namespace blocklens::learn
