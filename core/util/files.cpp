#include "util/files.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace blocklens {
namespace fs = std::filesystem;

std::string describeFileType(fs::file_type type)
{
    switch (type) {
    case fs::file_type::regular: return "a regular file";
    case fs::file_type::directory: return "a directory";
    case fs::file_type::symlink: return "a symbolic link";
    case fs::file_type::block: return "a block device";
    case fs::file_type::character: return "a character device";
    case fs::file_type::fifo: return "a FIFO";
    case fs::file_type::socket: return "a socket";
    case fs::file_type::not_found: return "missing";
    default: return "of an unknown type";
    }
}

void requireRegularFile(const fs::path& path, std::string_view role)
{
    const ErrorContext where{.file = path.string()};
    std::error_code ec;
    const auto status = fs::status(path, ec); // follows links
    if (status.type() == fs::file_type::not_found)
        throw Error("no such file", where);
    if (ec) // a symbolic link loop, a component that is not a directory, no permission...
        throw Error("cannot examine the " + std::string(role) + " file: " + ec.message(), where);
    if (status.type() == fs::file_type::directory)
        throw Error("is a directory, not a file", where);
    if (status.type() != fs::file_type::regular)
        throw Error("is not a regular file (" + describeFileType(status.type()) + "), so it cannot be read as a "
                        + std::string(role),
                    where);
}

void requireOutputTarget(const fs::path& path, bool overwrite, std::string_view forceOption)
{
    const ErrorContext where{.file = path.string()};
    std::error_code ec;
    const auto link = fs::symlink_status(path, ec); // does not follow links
    if (link.type() == fs::file_type::not_found) {
        const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
        if (!fs::is_directory(parent, ec))
            throw Error("cannot write here: directory " + parent.string() + " does not exist", where);
        return;
    }
    if (ec)
        throw Error("cannot examine the output path: " + ec.message(), where);
    if (link.type() == fs::file_type::symlink)
        throw Error("the output is a symbolic link; BlockLens does not write through links (it would replace the "
                    "link or the file it points to): remove it or give the real path",
                    where);
    if (link.type() != fs::file_type::regular)
        throw Error("the output exists and is not a regular file (" + describeFileType(link.type())
                        + "); it was left unchanged: give a file name",
                    where);
    if (!overwrite)
        throw Error("the output file already exists; it was left unchanged: give " + std::string(forceOption)
                        + " to replace it, or another name",
                    where);
}

void requireRegularOrNewFile(const fs::path& path)
{
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (status.type() == fs::file_type::not_found || status.type() == fs::file_type::regular)
        return;
    if (ec)
        throw Error("cannot examine the output path: " + ec.message(), {.file = path.string()});
    throw Error("the output exists and is not a regular file (" + describeFileType(status.type())
                    + "); it was left unchanged: give a file name",
                {.file = path.string()});
}

OutputFile::OutputFile(fs::path target, bool overwrite, std::string_view forceOption) : target_(std::move(target))
{
    requireOutputTarget(target_, overwrite, forceOption);
    part_ = target_;
    part_ += ".part";
    // Exclusive and without following links: a stale .part left by a killed run is ours to
    // replace if it is a plain file, anything else there is not.
    int fd = ::open(part_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) {
        std::error_code ec;
        if (fs::symlink_status(part_, ec).type() != fs::file_type::regular)
            throw Error("cannot write the output: " + part_.string() + " exists and is not a regular file", {.file = target_.string()});
        fs::remove(part_, ec);
        fd = ::open(part_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    }
    if (fd < 0)
        throw Error("cannot create " + part_.string() + ": " + std::strerror(errno), {.file = target_.string()});
    ::close(fd);
    out_.open(part_, std::ios::binary | std::ios::trunc);
    if (!out_) {
        std::error_code ec;
        fs::remove(part_, ec);
        throw Error("cannot write " + part_.string(), {.file = target_.string()});
    }
}

OutputFile::~OutputFile()
{
    if (committed_)
        return;
    out_.close();
    std::error_code ec;
    fs::remove(part_, ec);
}

void OutputFile::commit()
{
    out_.flush();
    const bool ok = static_cast<bool>(out_);
    out_.close();
    if (!ok || out_.fail())
        throw Error("writing the output failed (disk full, or the file size limit reached?); nothing was written "
                    "to it and the partial file was removed",
                    {.file = target_.string()});
    std::error_code ec;
    fs::rename(part_, target_, ec);
    if (ec)
        throw Error("cannot rename " + part_.string() + " into place: " + ec.message(), {.file = target_.string()});
    committed_ = true;
}

std::string formatByteCount(std::uintmax_t bytes)
{
    const std::string plain = std::to_string(bytes);
    std::string digits;
    for (std::size_t i = 0; i < plain.size(); ++i) {
        if (i > 0 && (plain.size() - i) % 3 == 0)
            digits += ',';
        digits += plain[i];
    }
    char unit[32];
    std::snprintf(unit, sizeof unit, "%.1f MiB", static_cast<double>(bytes) / 1048576.0);
    return digits + " bytes (" + unit + ")";
}

} // namespace blocklens
