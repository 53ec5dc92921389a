// The logfd handed to the kernel: a memfd cr-tool reads back to explain a
// failure, and optionally copies to a file the user named.
#pragma once

#include <string>

#include "fd.hpp"

namespace cr::cli {

class KernelLog {
public:
    explicit KernelLog(std::string copy_to);
    ~KernelLog();
    int fd() const { return fd_.get(); }
    // The kernel's lines, trimmed; empty if it wrote none.
    std::string text() const;
    // " (kernel: ...)" for an error message, or "".
    std::string explain() const;

private:
    Fd fd_;
    std::string copy_to_;
};

} // namespace cr::cli
