#include "campaign/assignment.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace blocklens::campaign {

namespace {

// Uniform in [0, n) from raw 64-bit draws, rejecting the top partial range (no modulo bias).
std::uint64_t below(std::mt19937_64& rng, std::uint64_t n)
{
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t x;
    do
        x = rng();
    while (x >= limit);
    return x % n;
}

} // namespace

std::vector<std::string> parseAnnotatorList(const std::string& list)
{
    std::vector<std::string> out;
    std::size_t begin = 0;
    while (true) {
        const std::size_t end = std::min(list.find(',', begin), list.size());
        std::string name = list.substr(begin, end - begin);
        const auto first = name.find_first_not_of(" \t");
        name = first == std::string::npos ? "" : name.substr(first, name.find_last_not_of(" \t") - first + 1);
        if (name.empty())
            throw Error("the annotator list '" + list + "' has an empty name: give names separated by commas (a,b,c)");
        out.push_back(std::move(name));
        if (end == list.size())
            break;
        begin = end + 1;
    }
    return out;
}

AssignmentResult planAssignment(const AssignmentRequest& request)
{
    const auto& names = request.annotators;
    const std::size_t k = names.size();
    if (k == 0)
        throw Error("no annotators: name at least one");
    std::set<std::string> seen;
    for (const auto& n : names) {
        if (n.empty() || n.find(',') != std::string::npos)
            throw Error("annotator name '" + n + "' must be non-empty and hold no comma");
        if (!seen.insert(n).second)
            throw Error("annotator '" + n + "' is named twice");
    }
    if (!(request.overlap >= 0.0 && request.overlap <= 1.0))
        throw Error("the overlap must be between 0 and 1 (a share of the rows), not " + std::to_string(request.overlap));
    if (request.overlap > 0 && k < 2)
        throw Error("an overlap needs two or more annotators (shared rows are done twice)");

    std::vector<std::size_t> order(request.rows);
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::mt19937_64 rng(request.seed);
    for (std::size_t i = order.size(); i > 1; --i)
        std::swap(order[i - 1], order[below(rng, i)]);

    AssignmentResult r;
    r.rows.assign(request.rows, {});
    r.shared = static_cast<std::size_t>(std::llround(request.overlap * static_cast<double>(request.rows)));
    std::vector<std::size_t> load(k, 0);
    for (std::size_t j = 0; j < r.shared; ++j) {
        // Pair j: a = j mod k and a partner at a distance that steps through 1..k-1 every k rows,
        // so every pair of annotators comes round.
        const std::size_t a = j % k;
        const std::size_t b = (a + 1 + (j / k) % (k - 1)) % k;
        auto& row = r.rows[order[j]];
        for (std::size_t who = 0; who < k; ++who) // in the order given
            if (who == a || who == b) {
                row.push_back(names[who]);
                ++load[who];
            }
    }
    for (std::size_t j = r.shared; j < order.size(); ++j) {
        const std::size_t who = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        r.rows[order[j]].push_back(names[who]);
        ++load[who];
    }
    return r;
}

} // namespace blocklens::campaign
