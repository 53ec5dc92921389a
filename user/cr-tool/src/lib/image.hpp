// Reading linux-cr images: one pass over the records, each checked by the
// decoder of its kind (obj/*.cpp) and turned into JSON.
//
// Grammar and rules: image-format.md and <linux/checkpoint.h>.
#pragma once

#include <linux/checkpoint.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "error.hpp"
#include "fd.hpp"

#include <nlohmann/json.hpp>

namespace cr {

// A record the reader is looking at: the whole record, header included.
struct RecordView {
    uint32_t type;
    uint32_t len;
    uint64_t offset;
    std::span<const uint8_t> bytes;

    // The record's fixed struct; the reader checked len >= its size first.
    template <typename T>
    T as() const
    {
        T v;
        std::memcpy(&v, bytes.data(), sizeof(T));
        return v;
    }
    // Bytes after the fixed struct of size @fixed.
    std::span<const uint8_t> tail(size_t fixed) const { return bytes.subspan(fixed); }
};

// Where and why an image is not valid.
class ImageError : public Failure {
public:
    ImageError(uint64_t offset, const std::string& what)
        : Failure(what), offset_(offset) {}
    uint64_t offset() const { return offset_; }

private:
    uint64_t offset_;
};

enum class ObjType { mm, files, file, pipe, sighand, fs, shm };
const char* obj_type_name(ObjType type);

// What the decoders share while walking one image.
struct DecodeContext {
    std::optional<cr_rec_header> header;
    std::vector<cr_tree_entry> tree;
    std::map<uint32_t, ObjType> objrefs;
    std::vector<std::pair<uint32_t, ObjType>> named_by_tasks;
    uint64_t records = 0;
    uint64_t tasks = 0;
    uint64_t pages = 0;
    uint64_t vma_pages_left = 0;
    struct MmSection {
        uint32_t objref = 0;     // the open MM section, 0 outside one
        uint32_t vmas_left = 0;
        uint64_t prev_end = 0;
        uint64_t vma_start = 0, vma_end = 0;
        uint64_t pages = 0;
    } mm;
    struct UnlinkedFile {
        uint32_t objref = 0;     // the unlinked FILE whose FILE_DATA may follow, else 0
        uint64_t size = 0;
        uint64_t next = 0;       // FILE_DATA offsets ascend from here
    } unlinked;
    std::optional<std::pair<uint32_t, uint32_t>> file_state;   // (objref, record type) of the state record due

    [[noreturn]] void fail(const RecordView& rec, const std::string& what) const;
    void define(const RecordView& rec, uint32_t id, ObjType type);
    void use(const RecordView& rec, const char* field, uint32_t id, ObjType type) const;
    uint32_t page_size() const { return header ? header->page_size : 4096; }
};

// A decoder checks one record's fields and variable parts and returns the
// bytes it used; the rest of the record must be zero padding.
using DecodeFn = size_t (*)(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out);

struct RecordKind {
    uint32_t type;
    const char* name;
    size_t fixed_size;
    DecodeFn decode;
};

// One table per object kind, in obj/<kind>.cpp: the file named as the
// kernel's (kernel/cr/<kind>.c) that writes and reads the same records.
std::span<const RecordKind> header_record_kinds();
std::span<const RecordKind> task_record_kinds();
std::span<const RecordKind> timers_record_kinds();
std::span<const RecordKind> cpu_record_kinds();
std::span<const RecordKind> signal_record_kinds();
std::span<const RecordKind> mm_record_kinds();
std::span<const RecordKind> file_record_kinds();
std::span<const RecordKind> pipe_record_kinds();
std::span<const RecordKind> unlinked_record_kinds();
std::span<const RecordKind> eventfd_record_kinds();
std::span<const RecordKind> signalfd_record_kinds();
std::span<const RecordKind> timerfd_record_kinds();
std::span<const RecordKind> epoll_record_kinds();
std::span<const RecordKind> memfd_record_kinds();

// The check every file-state record (EVENTFD, EPOLL, MEMFD, ...) makes: it
// follows the FILE @objref of the kind that owns it (obj/files.cpp).
void expect_file_state(const RecordView& rec, DecodeContext& ctx, uint32_t objref);

const RecordKind* find_record_kind(uint32_t type);
const char* record_name(uint32_t type);

struct DecodedImage {
    bool valid = false;
    std::string error;          // empty when valid
    uint64_t error_offset = 0;
    DecodeContext ctx;
    nlohmann::json records = nlohmann::json::array();  // filled when asked for
    nlohmann::json trailer;
};

// Decode @data; never throws for a damaged image, it reports it. With
// @max_records, stop after that many records (the frame: HEADER and TREE).
DecodedImage decode_image(std::span<const uint8_t> data, bool want_records,
                          uint64_t max_records = UINT64_MAX);

// A read-only mapping of an image file.
// An image file mapped for reading; a zstd-compressed one is decompressed
// into memory first, and that memory is what fd() and bytes() give.
class MappedImage {
public:
    explicit MappedImage(const std::filesystem::path& path);
    MappedImage(const MappedImage&) = delete;
    MappedImage& operator=(const MappedImage&) = delete;
    ~MappedImage();
    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    // The image's uncompressed bytes as a file: the file itself, or the memory holding them.
    int fd() const { return fd_.get(); }
    bool compressed() const { return compressed_; }
    uint64_t file_size() const { return file_size_; }

private:
    Fd fd_;
    bool compressed_ = false;
    uint64_t file_size_ = 0;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

// The XXH64 (seed 0) of the bytes before the trailer, which the trailer carries.
uint64_t image_checksum(std::span<const uint8_t> data);

// Helpers for decoders.
std::string hex(uint64_t v);
std::string bounded_string(const RecordView& rec, DecodeContext& ctx, const char* field,
                           std::span<const uint8_t> tail, uint32_t len);

} // namespace cr
