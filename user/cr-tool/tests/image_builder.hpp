// A tiny image writer for the tests: well-formed images to break on purpose.
#pragma once

#include <linux/checkpoint.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace cr::test {

class ImageBuilder {
public:
    template <typename T>
    size_t add(uint32_t type, T rec, const void* tail = nullptr, size_t tail_len = 0)
    {
        size_t len = (sizeof(T) + tail_len + 7) & ~size_t(7);
        auto* h = reinterpret_cast<cr_hdr*>(&rec);
        h->type = type;
        h->len = static_cast<uint32_t>(len);
        size_t at = bytes.size();
        bytes.resize(at + len, 0);
        std::memcpy(bytes.data() + at, &rec, sizeof(T));
        if (tail_len)
            std::memcpy(bytes.data() + at + sizeof(T), tail, tail_len);
        records++;
        return at;
    }
    // Append the trailer over everything written so far.
    void finish();

    std::vector<uint8_t> bytes;
    uint64_t records = 0;
};

// HEADER, TREE, TASK with an MM of one VMA and one page, a FILE, an
// FD_TABLE, SIGHAND, SIGNALS, TRAILER: every cross-reference exercised.
std::vector<uint8_t> valid_image();

} // namespace cr::test
