#include "atomic_file.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "error.hpp"

namespace cr {

namespace {

std::filesystem::path dir_of(const std::filesystem::path& target)
{
    return target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
}

std::string fd_path(int fd)
{
    return fmt::format("/proc/self/fd/{}", fd);
}

} // namespace

AtomicFile::AtomicFile(std::filesystem::path target, Temp temp) : target_(std::move(target)), dir_(dir_of(target_))
{
    int fd = temp == Temp::nameless ? ::open(dir_.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600) : -1;
    if (fd >= 0) {
        fd_ = Fd(fd);
        return;
    }
    // Asked for, or a file system without O_TMPFILE (EOPNOTSUPP, EISDIR on old kernels).
    std::string tmpl = (dir_ / ("." + target_.filename().string() + ".tmp.XXXXXX")).string();
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0)
        throw_errno("cannot create a temporary file next to {}", target_.string());
    fd_ = Fd(fd);
    temp_ = tmpl;
}

AtomicFile::~AtomicFile()
{
    if (!committed_ && !keep_ && !temp_.empty())
        ::unlink(temp_.c_str());
}

std::filesystem::path AtomicFile::read_path() const
{
    return temp_.empty() ? std::filesystem::path(fd_path(fd_.get())) : temp_;
}

void AtomicFile::link_temp()
{
    if (!temp_.empty())
        return;
    // linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc link does not.
    std::string from = fd_path(fd_.get());
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned int r = 0;
        if (::getrandom(&r, sizeof(r), 0) != sizeof(r))
            r = static_cast<unsigned int>(::getpid()) * 2654435761u + static_cast<unsigned int>(attempt);
        auto name = dir_ / fmt::format(".{}.tmp.{:08x}", target_.filename().string(), r);
        if (::linkat(AT_FDCWD, from.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0) {
            temp_ = name;
            return;
        }
        if (errno != EEXIST)
            throw_errno("cannot give {} a temporary name in {}", target_.string(), dir_.string());
    }
    throw_errno("cannot find a free temporary name in {}", dir_.string());
}

void AtomicFile::commit()
{
    if (::fsync(fd_.get()) < 0)
        throw_errno("cannot sync {}", target_.string());
    if (temp_.empty()) {
        // A new target: the nameless file takes its name in one step, no temporary name ever.
        std::string from = fd_path(fd_.get());
        if (::linkat(AT_FDCWD, from.c_str(), AT_FDCWD, target_.c_str(), AT_SYMLINK_FOLLOW) == 0)
            committed_ = true;
        else if (errno != EEXIST)
            throw_errno("cannot name {}", target_.string());
    }
    if (!committed_) {
        // Replacing a file: under a temporary name first, then renamed over it.
        link_temp();
        if (::rename(temp_.c_str(), target_.c_str()) < 0)
            throw_errno("cannot rename {} to {}", temp_.string(), target_.string());
        committed_ = true;
    }
    Fd dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd || ::fsync(dirfd.get()) < 0)
        throw_errno("cannot sync directory {}", dir_.string());
}

} // namespace cr
