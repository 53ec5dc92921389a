// The records of the stream as typed values: for every record type of
// <linux/checkpoint.h> its fixed struct and, typed, what follows it (an
// array counted by a field of the struct, or bytes whose length a field
// gives). decode_record() and encode_record() are exact inverses for every
// record in canonical form (its length the fixed part and tail rounded up
// to 8, zero padding): the one place that knows how a record is framed.
//
// This is structure only; what the fields may hold is the validating
// reader's (image.cpp and obj/*.cpp).
#pragma once

#include <linux/checkpoint.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "error.hpp"

namespace cr::model {

// A record's fixed struct, held as bytes: a uapi struct that ends in a
// flexible array member cannot be a member of another struct by value.
template <typename T>
struct Head {
    static_assert(std::is_trivially_copyable_v<T>);
    alignas(8) unsigned char raw[sizeof(T)]{};

    T get() const
    {
        T v;
        std::memcpy(&v, raw, sizeof(T));
        return v;
    }
    void set(const T& v) { std::memcpy(raw, &v, sizeof(T)); }
    T* operator->() { return std::launder(reinterpret_cast<T*>(raw)); }
    const T* operator->() const { return std::launder(reinterpret_cast<const T*>(raw)); }
    bool operator==(const Head& o) const { return std::memcmp(raw, o.raw, sizeof(T)) == 0; }
};

// A record with nothing after its fixed struct.
template <typename Fixed>
struct Plain {
    Head<Fixed> fixed;
    bool operator==(const Plain&) const = default;
};

// A record whose fixed struct is followed by an array of Elem, counted by *Count.
template <typename Fixed, typename Elem, auto Count>
struct WithArray {
    Head<Fixed> fixed;
    std::vector<Elem> items;
    bool operator==(const WithArray& o) const
    {
        return fixed == o.fixed && items.size() == o.items.size() &&
               (items.empty() || std::memcmp(items.data(), o.items.data(), items.size() * sizeof(Elem)) == 0);
    }
};

// A record whose fixed struct is followed by *Len bytes (a path, a name, data).
template <typename Fixed, auto Len>
struct WithBytes {
    Head<Fixed> fixed;
    std::string bytes;
    bool operator==(const WithBytes&) const = default;
};

// SIGNALS: nr_private + nr_shared queued signals.
struct Signals {
    Head<cr_rec_signals> fixed;
    std::vector<cr_siginfo> queue;   // the private ones first
    bool operator==(const Signals& o) const
    {
        return fixed == o.fixed && queue.size() == o.queue.size() &&
               (queue.empty() || std::memcmp(queue.data(), o.queue.data(), queue.size() * sizeof(cr_siginfo)) == 0);
    }
};

// PAGES: nr addresses, then the pages' bytes from the next 8-byte boundary.
struct Pages {
    Head<cr_rec_pages> fixed;
    std::vector<uint64_t> vaddr;
    std::string data;   // nr pages of the image's page size
    bool operator==(const Pages&) const = default;
};

// Every record type, with the model of its record. The uapi header's list
// of types is checked against this one at build time (record.cpp).
#define CR_MODEL_RECORDS(X)                                                                     \
    X(HEADER, (Plain<cr_rec_header>))                                                           \
    X(TREE, (WithArray<cr_rec_tree, cr_tree_entry, &cr_rec_tree::nr_tasks>))                  \
    X(TRAILER, (Plain<cr_rec_trailer>))                                                         \
    X(TASK, (Plain<cr_rec_task>))                                                               \
    X(CREDS, (WithArray<cr_rec_creds, uint32_t, &cr_rec_creds::ngroups>))                     \
    X(CPU, (Plain<cr_rec_cpu>))                                                                 \
    X(FPU, (WithBytes<cr_rec_fpu, &cr_rec_fpu::size>))                                        \
    X(RESTART_BLOCK, (Plain<cr_rec_restart_block>))                                             \
    X(SIGHAND, (Plain<cr_rec_sighand>))                                                         \
    X(SIGNALS, (Signals))                                                                       \
    X(RLIMITS, (Plain<cr_rec_rlimits>))                                                         \
    X(FS, (WithBytes<cr_rec_fs, &cr_rec_fs::cwd_len>))                                        \
    X(ZOMBIE, (Plain<cr_rec_zombie>))                                                           \
    X(MM, (WithBytes<cr_rec_mm, &cr_rec_mm::exe_len>))                                        \
    X(VMA, (Plain<cr_rec_vma>))                                                                 \
    X(PAGES, (Pages))                                                                           \
    X(MM_END, (Plain<cr_rec_mm_end>))                                                           \
    X(FILE, (WithBytes<cr_rec_file, &cr_rec_file::path_len>))                                 \
    X(PIPE, (WithBytes<cr_rec_pipe, &cr_rec_pipe::data_len>))                                 \
    X(FD_TABLE, (WithArray<cr_rec_fd_table, cr_fd_entry, &cr_rec_fd_table::nr_fds>))          \
    X(FILE_DATA, (WithBytes<cr_rec_file_data, &cr_rec_file_data::len>))                       \
    X(EVENTFD, (Plain<cr_rec_eventfd>))                                                         \
    X(SIGNALFD, (Plain<cr_rec_signalfd>))                                                       \
    X(TIMERFD, (Plain<cr_rec_timerfd>))                                                         \
    X(ITIMERS, (Plain<cr_rec_itimers>))                                                         \
    X(EPOLL, (WithArray<cr_rec_epoll, cr_epoll_watch, &cr_rec_epoll::nr_watches>))            \
    X(MEMFD, (WithBytes<cr_rec_memfd, &cr_rec_memfd::name_len>))                              \
    X(POSIX_TIMERS, (WithArray<cr_rec_posix_timers, cr_posix_timer, &cr_rec_posix_timers::nr_timers>))

#define CR_MODEL_UNPAREN(...) __VA_ARGS__
#define CR_MODEL_TYPE(name, model) , CR_MODEL_UNPAREN model
// One alternative per record type, in the order of the list.
using Record = std::variant<std::monostate CR_MODEL_RECORDS(CR_MODEL_TYPE)>;
#undef CR_MODEL_TYPE

// Why bytes are not one canonical record.
class FrameError : public Failure {
public:
    using Failure::Failure;
};

// The record at the start of @bytes (exactly one record: its cr_hdr.len bytes).
// @page_size frames PAGES. Throws FrameError.
Record decode_record(std::span<const uint8_t> bytes, uint32_t page_size = 4096);
// The record's bytes: header type and length, count and length fields set from the tail.
std::vector<uint8_t> encode_record(const Record& rec);
uint32_t record_type(const Record& rec);

// Every record type the model knows, ascending.
std::span<const uint32_t> model_record_types();

} // namespace cr::model
