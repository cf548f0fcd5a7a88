#include "learn/resource_paths.hpp"

#ifndef BLOCKLENS_LEARN_RESOURCES_DIR
#define BLOCKLENS_LEARN_RESOURCES_DIR ""
#endif

namespace blocklens::learn {

namespace fs = std::filesystem;

std::vector<fs::path> resourceSearchPath(const fs::path& rel)
{
    std::vector<fs::path> out;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && !exe.empty()) {
        const fs::path dir = exe.parent_path();
        out.push_back(dir / ".." / "share" / "blocklens" / rel);
        out.push_back(dir / "resources" / rel);
        out.push_back(dir / ".." / "resources" / rel);
        out.push_back(dir / ".." / ".." / "resources" / rel);
    }
    const std::string built = BLOCKLENS_LEARN_RESOURCES_DIR;
    if (!built.empty())
        out.push_back(fs::path(built) / rel);
    for (auto& p : out)
        p = p.lexically_normal();
    return out;
}

} // namespace blocklens::learn
