#include "cli/variant_args.hpp"

#include "cli/args.hpp"
#include "util/error.hpp"

namespace blocklens::cli {

engine::AttentionVariant variantOption(const std::string& text, const std::string& option)
{
    try {
        return engine::parseAttentionVariant(text);
    } catch (const Error& e) {
        throw UsageError{"--" + option + ": " + e.message()};
    }
}

} // namespace blocklens::cli
