// A main() for the harnesses outside libFuzzer: runs LLVMFuzzerTestOneInput once on every file
// of the folders (and files) named on the command line, in a fixed order. The sanitized test tree
// (GCC, ASan + UBSan, scripts/sanitize) builds every harness with it, so the seed corpora, made
// from the fixtures plus the hand-made fuzz/seeds/NAME, are replayed as CTest tests there: GCC's
// sanitizers over the same inputs that clang's fuzz tree starts from, and every regression input
// kept in fuzz/seeds/NAME checked on every CI run. A finding aborts (fuzz_util's fail(), or a
// sanitizer report) and names the input it was on.
//   fuzz_NAME PATH...
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// Defined only by the harnesses that load something once (fuzz_encode): weak, so it is null elsewhere.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace fs = std::filesystem;

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FOLDER_OR_FILE...\n", argv[0]);
        return 2;
    }
    std::vector<fs::path> inputs;
    for (int i = 1; i < argc; ++i) {
        const fs::path p = argv[i];
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            for (const auto& e : fs::recursive_directory_iterator(p)) {
                // Dot files are stamps and notes (scripts/fuzz's seeds/.stamp), not inputs.
                if (e.is_regular_file() && e.path().filename().string().front() != '.')
                    inputs.push_back(e.path());
            }
        } else if (fs::is_regular_file(p, ec)) {
            inputs.push_back(p);
        } else {
            std::fprintf(stderr, "error: %s is neither a folder nor a file\n", p.c_str());
            return 2;
        }
    }
    // A replay of nothing would pass without testing anything (seeds not made, a wrong folder).
    if (inputs.empty()) {
        std::fprintf(stderr, "error: no inputs under the paths given\n");
        return 1;
    }
    std::sort(inputs.begin(), inputs.end());

    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (const auto& path : inputs) {
        std::ifstream in(path, std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (!in.good() && !in.eof()) {
            std::fprintf(stderr, "error: cannot read %s\n", path.c_str());
            return 1;
        }
        // Printed before the run, so the last line before an abort names the input.
        std::fprintf(stderr, "input %s (%zu bytes)\n", path.c_str(), bytes.size());
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }
    std::printf("replayed %zu inputs\n", inputs.size());
    return 0;
}
