// One error type for cr-tool: what failed, the errno, and what to do about it.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

#include <fmt/format.h>

namespace cr {

class Error : public std::system_error {
public:
    Error(int err, std::string what, std::string hint = {})
        : std::system_error(err, std::generic_category(), what), hint_(std::move(hint)) {}

    const std::string& hint() const { return hint_; }

private:
    std::string hint_;
};

// An error whose message already says everything (no errno text).
class Failure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void throw_errno(fmt::format_string<Args...> fmt, Args&&... args)
{
    int err = errno;
    throw Error(err, fmt::format(fmt, std::forward<Args>(args)...));
}

} // namespace cr
