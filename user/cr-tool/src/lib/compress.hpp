// zstd-compressed images: written by cr-tool from the kernel's stream, read
// back by decompressing into anonymous memory that then stands for the file.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "fd.hpp"

namespace cr {

// Does @head start a zstd frame? Images begin with a HEADER record, never with this magic.
bool is_zstd(std::span<const uint8_t> head);

struct StreamResult {
    uint64_t bytes_in = 0;      // the kernel's stream
    uint64_t bytes_out = 0;     // what reached the file
    bool trailer_ok = false;    // the stream ended with a TRAILER whose checksum matches
};

// Compress everything read from @in (a pipe the kernel writes into) until
// end of file into @out as one zstd frame, at @level with @threads workers.
// The stream's XXH64 is computed on the way and checked against its
// TRAILER, as the read-back of an uncompressed image does. @progress, if
// set, is called about once a second with the bytes read so far.
StreamResult compress_stream(int in, int out, int level, unsigned threads,
                             const std::function<void(uint64_t)>& progress = {});

// Decompress the zstd image in @fd (read from its start) into a memfd,
// positioned at 0: restart(2), inspect and verify then read that.
Fd decompress_to_memfd(int fd, const char* name);

} // namespace cr
