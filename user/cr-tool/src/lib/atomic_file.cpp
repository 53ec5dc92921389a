#include "atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "error.hpp"

namespace cr {

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target))
{
    auto dir = target_.parent_path().empty() ? std::filesystem::path(".") : target_.parent_path();
    std::string tmpl = (dir / ("." + target_.filename().string() + ".tmp.XXXXXX")).string();
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0)
        throw_errno("cannot create a temporary file next to {}", target_.string());
    fd_ = Fd(fd);
    temp_ = tmpl;
}

AtomicFile::~AtomicFile()
{
    if (!committed_)
        ::unlink(temp_.c_str());
}

void AtomicFile::commit()
{
    if (::fsync(fd_.get()) < 0)
        throw_errno("cannot sync {}", temp_.string());
    if (::rename(temp_.c_str(), target_.c_str()) < 0)
        throw_errno("cannot rename {} to {}", temp_.string(), target_.string());
    committed_ = true;
    auto dir = target_.parent_path().empty() ? std::filesystem::path(".") : target_.parent_path();
    Fd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd || ::fsync(dirfd.get()) < 0)
        throw_errno("cannot sync directory {}", dir.string());
}

} // namespace cr
