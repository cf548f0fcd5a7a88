#include "cli/exchange_args.hpp"

#include "util/error.hpp"

namespace blocklens::cli {

ArgSpec& addExchangeOptions(ArgSpec& spec, const std::string& command)
{
    return spec.option("separator", "S", command + "cacheblend: the string between blocks", " # # ")
        .option("offsets", "U", command + "chunk-offsets: start_index/end_index count codepoints, utf16 or bytes", "codepoints");
}

ExchangeOptions readExchangeOptions(const ArgSpec::Parsed& a)
{
    ExchangeOptions exchange;
    exchange.separator = a.value("separator");
    try {
        exchange.offsets = parseOffsetUnit(a.value("offsets"));
    } catch (const Error& e) {
        throw UsageError{"--offsets: " + e.message()};
    }
    return exchange;
}

} // namespace blocklens::cli
