#include "kernel_log.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "error.hpp"

namespace cr::cli {

KernelLog::KernelLog(std::string copy_to) : copy_to_(std::move(copy_to))
{
    int fd = ::memfd_create("cr-tool-log", 0);
    if (fd < 0)
        throw_errno("cannot create the kernel log buffer");
    fd_ = Fd(fd);
}

KernelLog::~KernelLog()
{
    if (copy_to_.empty())
        return;
    std::string t = text();
    if (t.empty())
        return;
    Fd out(::open(copy_to_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (out) {
        t += '\n';
        [[maybe_unused]] ssize_t n = ::write(out.get(), t.data(), t.size());
    }
}

std::string KernelLog::text() const
{
    std::string s;
    char buf[4096];
    ssize_t n;
    off_t pos = 0;
    while ((n = ::pread(fd_.get(), buf, sizeof(buf), pos)) > 0) {
        s.append(buf, static_cast<size_t>(n));
        pos += n;
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.pop_back();
    return s;
}

std::string KernelLog::explain() const
{
    std::string t = text();
    if (t.empty())
        return "";
    for (auto& c : t)
        if (c == '\n')
            c = ';';
    return fmt::format(" (kernel: {})", t);
}

} // namespace cr::cli
