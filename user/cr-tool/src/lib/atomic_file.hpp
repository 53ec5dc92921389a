// Write a file under no name or a temporary one and make it appear whole or not at all.
#pragma once

#include <filesystem>

#include "fd.hpp"

namespace cr {

class AtomicFile {
public:
    enum class Temp {
        nameless,   // no name at all (O_TMPFILE) until link_temp() or commit(), where the file
                    // system allows it: a process killed meanwhile leaves nothing
        named,      // a hidden temporary file next to the target from the start: what is
                    // written survives the process
    };
    // Creates the file, mode 0600, in the target's directory; a nameless one
    // falls back to a named one where O_TMPFILE is not supported.
    explicit AtomicFile(std::filesystem::path target, Temp temp = Temp::nameless);
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    // Not committed: the temporary file is removed (unless kept), the target never appears.
    ~AtomicFile();

    int fd() const { return fd_.get(); }
    // A path that opens the file now: its temporary name, or /proc/self/fd/N.
    std::filesystem::path read_path() const;
    // Give the file its temporary name now (a no-op if it has one), so that it
    // survives this process: for data that exists nowhere else any more.
    void link_temp();
    // The temporary name, empty while the file has none.
    const std::filesystem::path& temp_path() const { return temp_; }
    // On destruction without commit(), leave the temporary name in place.
    void keep_on_failure() { keep_ = true; }
    // fsync the data, give it its final name (replacing the target), fsync the directory.
    void commit();

private:
    std::filesystem::path target_;
    std::filesystem::path dir_;
    std::filesystem::path temp_;
    Fd fd_;
    bool committed_ = false;
    bool keep_ = false;
};

} // namespace cr
