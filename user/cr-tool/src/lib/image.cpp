#include "image.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <fmt/format.h>

#include "compress.hpp"
#include "error.hpp"
#include "fd.hpp"

namespace cr {

const char* obj_type_name(ObjType type)
{
    switch (type) {
    case ObjType::mm: return "mm";
    case ObjType::files: return "fd table";
    case ObjType::file: return "file";
    case ObjType::pipe: return "pipe";
    case ObjType::sighand: return "sighand";
    case ObjType::fs: return "fs_struct";
    case ObjType::shm: return "shared memory";
    }
    return "?";
}

void DecodeContext::fail(const RecordView& rec, const std::string& what) const
{
    throw ImageError(rec.offset, fmt::format("record {}: {}", record_name(rec.type), what));
}

void DecodeContext::define(const RecordView& rec, uint32_t id, ObjType type)
{
    if (id == 0 || id >= CR_MAX_OBJREF)
        fail(rec, fmt::format("objref {} is out of range [1, {})", id, CR_MAX_OBJREF));
    if (!objrefs.emplace(id, type).second)
        fail(rec, fmt::format("objref {} is defined twice", id));
}

void DecodeContext::use(const RecordView& rec, const char* field, uint32_t id, ObjType type) const
{
    auto it = objrefs.find(id);
    if (it == objrefs.end())
        fail(rec, fmt::format("field {}: objref {} is not defined before its use", field, id));
    if (it->second != type)
        fail(rec, fmt::format("field {}: objref {} is a {}, expected a {}", field, id,
                              obj_type_name(it->second), obj_type_name(type)));
}

const RecordKind* find_record_kind(uint32_t type)
{
    for (auto table : {header_record_kinds(), task_record_kinds(), timers_record_kinds(), cpu_record_kinds(),
                       signal_record_kinds(), mm_record_kinds(), file_record_kinds(), pipe_record_kinds(),
                       unlinked_record_kinds(), eventfd_record_kinds(), signalfd_record_kinds(),
                       timerfd_record_kinds(), epoll_record_kinds(), memfd_record_kinds()})
        for (const auto& kind : table)
            if (kind.type == type)
                return &kind;
    return nullptr;
}

const char* record_name(uint32_t type)
{
    const RecordKind* kind = find_record_kind(type);
    return kind ? kind->name : "unknown";
}

uint64_t image_checksum(std::span<const uint8_t> data)
{
    return XXH64(data.data(), data.size(), 0);
}

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

std::string bounded_string(const RecordView& rec, DecodeContext& ctx, const char* field,
                           std::span<const uint8_t> tail, uint32_t len)
{
    if (len > tail.size() || len > CR_PATH_MAX)
        ctx.fail(rec, fmt::format("field {}: length {} does not fit the record", field, len));
    std::string s(reinterpret_cast<const char*>(tail.data()), len);
    if (s.find('\0') != std::string::npos)
        ctx.fail(rec, fmt::format("field {}: contains a NUL byte", field));
    return s;
}

namespace {

// The grammar's fixed points: HEADER, then TREE, and TRAILER last.
void check_order(const RecordView& rec, DecodeContext& ctx)
{
    if (ctx.records == 0 && rec.type != CR_REC_HEADER)
        ctx.fail(rec, "the image must start with a HEADER record");
    if (ctx.records == 1 && rec.type != CR_REC_TREE)
        ctx.fail(rec, "the second record must be TREE");
    if (ctx.records > 1 && (rec.type == CR_REC_HEADER || rec.type == CR_REC_TREE))
        ctx.fail(rec, "HEADER and TREE appear once, at the start");
    // FILE_DATA follows its unlinked FILE directly; so does the state record of an eventfd, ...
    if (rec.type != CR_REC_FILE_DATA && rec.type != CR_REC_FILE && rec.type != CR_REC_MEMFD)
        ctx.unlinked = {};
    if (ctx.file_state && rec.type != ctx.file_state->second)
        ctx.fail(rec, fmt::format("the state record of FILE {} is missing", ctx.file_state->first));
    if (ctx.vma_pages_left && rec.type != CR_REC_PAGES)
        ctx.fail(rec, fmt::format("{} more PAGES of the previous VMA are missing",
                                  ctx.vma_pages_left));
}

size_t decode_trailer(const RecordView& rec, DecodeContext& ctx, std::span<const uint8_t> data,
                      nlohmann::json& out)
{
    auto t = rec.as<cr_rec_trailer>();
    uint64_t sum = image_checksum(data.first(rec.offset));
    out["nr_records"] = t.nr_records;
    out["checksum"] = hex(t.checksum);
    if (t.nr_records != ctx.records)
        ctx.fail(rec, fmt::format("nr_records is {}, the image has {} records", t.nr_records,
                                  ctx.records));
    if (t.checksum != sum)
        ctx.fail(rec, fmt::format("checksum mismatch: the trailer says {:#x}, the image sums to {:#x}",
                                  t.checksum, sum));
    if (ctx.tasks != ctx.tree.size())
        ctx.fail(rec, fmt::format("the image has {} task sections, the TREE lists {} tasks", ctx.tasks,
                                  ctx.tree.size()));
    for (auto [id, type] : ctx.named_by_tasks)
        if (auto it = ctx.objrefs.find(id); it == ctx.objrefs.end() || it->second != type)
            ctx.fail(rec, fmt::format("a TASK names {} {}, which the image never defines",
                                      obj_type_name(type), id));
    return sizeof(t);
}

} // namespace

DecodedImage decode_image(std::span<const uint8_t> data, bool want_records, uint64_t max_records)
{
    DecodedImage img;
    DecodeContext& ctx = img.ctx;
    uint64_t pos = 0;
    bool trailer = false;

    try {
        while (pos < data.size()) {
            if (ctx.records == max_records) {
                img.valid = true;
                return img;
            }
            if (trailer)
                throw ImageError(pos, fmt::format("{} bytes after the TRAILER", data.size() - pos));
            if (data.size() - pos < sizeof(cr_hdr))
                throw ImageError(pos, fmt::format("truncated: a record header needs 8 bytes, {} left",
                                                  data.size() - pos));
            cr_hdr h;
            std::memcpy(&h, data.data() + pos, sizeof(h));
            const RecordKind* kind = find_record_kind(h.type);
            if (!kind)
                throw ImageError(pos, fmt::format("unknown record type {}", h.type));
            if (h.len % 8 || h.len < sizeof(h) || h.len > CR_REC_MAX_LEN)
                throw ImageError(pos, fmt::format("record {}: len {} is not a multiple of 8 in [8, {}]",
                                                  kind->name, h.len, CR_REC_MAX_LEN));
            if (h.len > data.size() - pos)
                throw ImageError(pos, fmt::format("truncated: record {} needs {} bytes, {} left",
                                                  kind->name, h.len, data.size() - pos));
            RecordView rec{h.type, h.len, pos, data.subspan(pos, h.len)};
            if (h.len < kind->fixed_size)
                ctx.fail(rec, fmt::format("len {} is shorter than the record's {} bytes", h.len,
                                          kind->fixed_size));
            check_order(rec, ctx);
            nlohmann::json out = {{"type", kind->name}, {"offset", pos}, {"len", h.len}};
            size_t used;
            if (h.type == CR_REC_TRAILER) {
                used = decode_trailer(rec, ctx, data, out);
                trailer = true;
                img.trailer = out;
            } else {
                used = kind->decode(rec, ctx, out);
                ctx.records++;
            }
            for (size_t i = used; i < h.len; i++)
                if (rec.bytes[i])
                    ctx.fail(rec, fmt::format("byte {} of the padding is not zero", i));
            if (want_records && h.type != CR_REC_TRAILER)
                img.records.push_back(std::move(out));
            pos += h.len;
        }
        if (!trailer)
            throw ImageError(pos, "truncated: the image ends without a TRAILER record");
        img.valid = true;
    } catch (const ImageError& e) {
        img.error = e.what();
        img.error_offset = e.offset();
    }
    return img;
}

MappedImage::MappedImage(const std::filesystem::path& path)
    : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC))
{
    if (!fd_)
        throw_errno("cannot open {}", path.string());
    struct stat st;
    if (::fstat(fd_.get(), &st) < 0)
        throw_errno("cannot stat {}", path.string());
    file_size_ = static_cast<uint64_t>(st.st_size);
    uint8_t head[4];
    ssize_t n = ::pread(fd_.get(), head, sizeof(head), 0);
    if (n > 0 && is_zstd(std::span(head, static_cast<size_t>(n)))) {
        fd_ = decompress_to_memfd(fd_.get(), path.c_str());
        compressed_ = true;
        if (::fstat(fd_.get(), &st) < 0)
            throw_errno("cannot stat the decompressed {}", path.string());
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0)
        return;
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_.get(), 0);
    if (p == MAP_FAILED)
        throw_errno("cannot map {}", path.string());
    data_ = static_cast<const uint8_t*>(p);
    // Processes cr-tool forks (a restart's tasks, a pid namespace's init) have no use for it.
    ::madvise(p, size_, MADV_DONTFORK);
}

MappedImage::~MappedImage()
{
    if (data_)
        ::munmap(const_cast<uint8_t*>(data_), size_);
}

} // namespace cr
