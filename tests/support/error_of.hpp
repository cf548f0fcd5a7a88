#pragma once
// The message of the project Error that `f` throws (what(): context and message), or "" if it
// throws none. Any other exception escapes, so the test fails on it.
#include "util/error.hpp"

#include <functional>
#include <string>

namespace blocklens::test {

inline std::string errorOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return {};
}

} // namespace blocklens::test
