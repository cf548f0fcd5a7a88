#pragma once
// An attention variant given on the command line (--mode, --modes): engine::parseAttentionVariant,
// its errors as usage errors naming the option.
#include "engine/repairs.hpp"

#include <string>

namespace blocklens::cli {

// Throws UsageError "--OPTION: <what is wrong with the setting>".
engine::AttentionVariant variantOption(const std::string& text, const std::string& option);

} // namespace blocklens::cli
