// Write a file under a temporary name and make it appear whole or not at all.
#pragma once

#include <filesystem>

#include "fd.hpp"

namespace cr {

class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path target);
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    // Not committed: the temporary file is removed, the target never appears.
    ~AtomicFile();

    int fd() const { return fd_.get(); }
    const std::filesystem::path& temp_path() const { return temp_; }
    // fsync the data, rename over the target, fsync the directory.
    void commit();

private:
    std::filesystem::path target_;
    std::filesystem::path temp_;
    Fd fd_;
    bool committed_ = false;
};

} // namespace cr
