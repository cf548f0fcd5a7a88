#pragma once
// Checks and writes that keep file arguments from hanging or damaging things: every reader asks
// requireRegularFile() before it opens an input, every writer of a user-named output goes through
// OutputFile. Opening a FIFO blocks until a writer appears and a device may never end, so they
// are refused up front; an output never replaces a device, a directory or a symbolic link (or
// what the link points to), and an unfinished output never stays behind.
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace blocklens {

// What a file is, in words for an error message: "a FIFO", "a directory", "a character device"...
std::string describeFileType(std::filesystem::file_type type);

// Throws Error unless `path` names a regular file (symbolic links followed): "is not a regular
// file (a FIFO), so it cannot be read as a <role>". A missing file, a directory, a symbolic link
// loop or a path that cannot be examined get their own one-line message. `role` is what the file
// was given as: "document", "dataset", "tokenizer", "model config"...
void requireRegularFile(const std::filesystem::path& path, std::string_view role);

// Throws Error unless `path` may be written as a new output: it does not exist yet, or it is a
// regular file and `overwrite` is set. A symbolic link is refused even with `overwrite` (writing
// would replace either the link or the file it points to, which the user did not name), as is
// anything that is not a regular file. `forceOption` names the option that sets `overwrite`
// ("--force"), for the message.
void requireOutputTarget(const std::filesystem::path& path, bool overwrite, std::string_view forceOption = "--force");

// For outputs that are replaced in place by design (a log, a re-trained tokenizer): throws Error if
// `path` exists and is not a regular file (links followed), which a write would block on (a
// FIFO) or damage (a device).
void requireRegularOrNewFile(const std::filesystem::path& path);

// A user-named output written through PATH.part and renamed over PATH by commit(), so readers
// never see half a file. The target is checked (requireOutputTarget) before anything is created;
// the .part file is created exclusively, never through an existing link. If commit() is not
// reached (an exception, a failed write), the destructor removes the .part file.
class OutputFile {
public:
    OutputFile(std::filesystem::path target, bool overwrite, std::string_view forceOption = "--force");
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    std::ostream& stream() { return out_; }
    const std::filesystem::path& target() const { return target_; }
    const std::filesystem::path& partPath() const { return part_; }
    // Flushes, checks every write succeeded (else throws, naming a full disk), renames into place.
    void commit();

private:
    std::filesystem::path target_, part_;
    std::ofstream out_;
    bool committed_ = false;
};

// "67,108,865 bytes (64.0 MiB)": sizes in limit messages, exact so two of them never look alike.
std::string formatByteCount(std::uintmax_t bytes);

} // namespace blocklens
