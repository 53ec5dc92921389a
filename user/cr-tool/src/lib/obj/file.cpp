// FILE, PIPE, FD_TABLE and FS: open files and where the task stands.
#include <fcntl.h>
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020 // Linux 6.3; glibc 2.36's fcntl.h predates it
#endif

#include <fmt/format.h>

#include <iterator>

#include "image.hpp"

namespace cr {
namespace {

// The kinds of FILE, as the kernel's cr_file_kinds[] (kernel/cr/files.c) has
// them: which fields of the FILE record a kind uses, and what must follow it.
constexpr unsigned uses_path = 1, uses_pos = 2, uses_pipe = 4;

struct FileKind {
    uint32_t kind;
    const char* name;
    unsigned fields;
    uint32_t state_record;   // the record of its state that follows the FILE, or 0
    bool data;               // FILE_DATA records with its bytes follow
};

constexpr FileKind file_kinds[] = {
    {0, nullptr, 0, 0, false},
    {CR_FILE_REG, "regular", uses_path | uses_pos, 0, false},
    {CR_FILE_DIR, "directory", uses_path | uses_pos, 0, false},
    {CR_FILE_CHR, "chardev", uses_path | uses_pos, 0, false},
    {CR_FILE_PIPE, "pipe", uses_pipe, 0, false},
    {CR_FILE_EXTERNAL, "external", 0, 0, false},
    {CR_FILE_UNLINKED, "unlinked", uses_path | uses_pos, 0, true},
    {CR_FILE_EVENTFD, "eventfd", 0, CR_REC_EVENTFD, false},
    {CR_FILE_SIGNALFD, "signalfd", 0, CR_REC_SIGNALFD, false},
    {CR_FILE_TIMERFD, "timerfd", 0, CR_REC_TIMERFD, false},
    {CR_FILE_FIFO, "fifo", uses_path | uses_pipe, 0, false},
    {CR_FILE_EPOLL, "epoll", 0, CR_REC_EPOLL, false},
    {CR_FILE_MEMFD, "memfd", uses_pos, CR_REC_MEMFD, true},
    {CR_FILE_UNLINKED_FIFO, "unlinked-fifo", uses_path | uses_pipe, 0, false},
};

// Every kind of the uapi header has its entry, at its own index.
static_assert(std::size(file_kinds) == CR_FILE_KIND_MAX, "a CR_FILE_* kind has no entry in file_kinds");
constexpr bool file_kinds_in_order()
{
    for (size_t i = 0; i < std::size(file_kinds); i++)
        if (file_kinds[i].kind != i)
            return false;
    return true;
}
static_assert(file_kinds_in_order(), "file_kinds must be indexed by kind");

const FileKind* file_kind(uint32_t kind)
{
    return kind && kind < std::size(file_kinds) ? &file_kinds[kind] : nullptr;
}

size_t decode_file(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto f = rec.as<cr_rec_file>();
    const FileKind* kind = file_kind(f.kind);
    if (!kind)
        ctx.fail(rec, fmt::format("field kind: unknown file kind {}", f.kind));
    ctx.define(rec, f.objref, ObjType::file);
    bool pipe_end = kind->fields & uses_pipe;
    if (pipe_end)
        ctx.use(rec, "pipe_ref", f.pipe_ref, ObjType::pipe);
    else if (f.pipe_ref)
        ctx.fail(rec, "field pipe_ref: set on a file that is not a pipe");
    if (f.pos < 0 || (f.pos && !(kind->fields & uses_pos)))
        ctx.fail(rec, fmt::format("field pos: {} for a {} file", f.pos, kind->name));
    bool has_path = kind->fields & uses_path;
    if (has_path != (f.path_len != 0))
        ctx.fail(rec, "field path_len: a path is required exactly for files reopened by path");
    std::string path = f.path_len ? bounded_string(rec, ctx, "path", rec.tail(sizeof(f)), f.path_len) : "";
    out["objref"] = f.objref;
    out["kind"] = kind->name;
    out["flags"] = fmt::format("{:#o}", f.flags);
    out["pos"] = f.pos;
    if (pipe_end)
        out["pipe_ref"] = f.pipe_ref;
    if (has_path)
        out["path"] = path;
    if (kind->data) {
        out["size"] = f.size;
        ctx.unlinked = {f.objref, f.size, 0};
    } else {
        ctx.unlinked = {};
    }
    ctx.file_state = kind->state_record ? std::optional(std::pair{f.objref, kind->state_record}) : std::nullopt;
    return sizeof(f) + f.path_len;
}

// The state record that follows an eventfd, signalfd or timerfd FILE.
void expect_file_state(const RecordView& rec, DecodeContext& ctx, uint32_t objref)
{
    if (!ctx.file_state || ctx.file_state->first != objref || ctx.file_state->second != rec.type)
        ctx.fail(rec, fmt::format("field objref: {} is not the FILE just before it", objref));
    ctx.file_state.reset();
}

size_t decode_eventfd(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto e = rec.as<cr_rec_eventfd>();
    expect_file_state(rec, ctx, e.objref);
    if (e.flags & ~1u || e.count == UINT64_MAX)
        ctx.fail(rec, fmt::format("field flags/count: {:#x}/{}", e.flags, e.count));
    out["objref"] = e.objref;
    out["count"] = e.count;
    out["semaphore"] = bool(e.flags & 1);
    return sizeof(e);
}

size_t decode_signalfd(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto s = rec.as<cr_rec_signalfd>();
    expect_file_state(rec, ctx, s.objref);
    if (s.reserved)
        ctx.fail(rec, "field reserved: not zero");
    out["objref"] = s.objref;
    out["mask"] = hex(s.mask);
    return sizeof(s);
}

size_t decode_timerfd(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto t = rec.as<cr_rec_timerfd>();
    expect_file_state(rec, ctx, t.objref);
    // CLOCK_REALTIME 0, CLOCK_MONOTONIC 1, CLOCK_BOOTTIME 7
    if ((t.clockid != 0 && t.clockid != 1 && t.clockid != 7) || t.interval_ns > INT64_MAX ||
        t.remaining_ns > INT64_MAX)
        ctx.fail(rec, fmt::format("field clockid/*_ns: {}/{}/{}", t.clockid, t.interval_ns, t.remaining_ns));
    out["objref"] = t.objref;
    out["clockid"] = t.clockid;
    out["interval_ns"] = t.interval_ns;
    out["remaining_ns"] = t.remaining_ns;
    out["ticks"] = t.ticks;
    return sizeof(t);
}

// The watches of the epoll FILE just before; the files they watch came earlier.
size_t decode_epoll(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto e = rec.as<cr_rec_epoll>();
    expect_file_state(rec, ctx, e.objref);
    if (e.nr_watches > CR_MAX_EPOLL_WATCHES)
        ctx.fail(rec, fmt::format("field nr_watches: {} exceeds {}", e.nr_watches, CR_MAX_EPOLL_WATCHES));
    size_t used = sizeof(e) + size_t(e.nr_watches) * sizeof(cr_epoll_watch);
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field nr_watches: {} watches do not fit the record", e.nr_watches));
    out["objref"] = e.objref;
    out["watches"] = nlohmann::json::array();
    for (uint32_t i = 0; i < e.nr_watches; i++) {
        cr_epoll_watch w;
        std::memcpy(&w, rec.bytes.data() + sizeof(e) + i * sizeof(w), sizeof(w));
        if (w.events & ~CR_EPOLL_EVENTS_ALL || w.flags & ~uint32_t(CR_EPOLL_READY) || w.fd < 0)
            ctx.fail(rec, fmt::format("field watches[{}]: fd {}, events {:#x}, flags {:#x}", i, w.fd,
                                      w.events, w.flags));
        ctx.use(rec, "watches[].file_ref", w.file_ref, ObjType::file);
        out["watches"].push_back({{"fd", w.fd}, {"file_ref", w.file_ref}, {"events", hex(w.events)},
                                  {"data", w.data}, {"ready", bool(w.flags & CR_EPOLL_READY)}});
    }
    return used;
}

// The name and seals of the memfd FILE just before; its FILE_DATA follows.
size_t decode_memfd(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    constexpr uint32_t seals_all = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                                   F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;
    auto m = rec.as<cr_rec_memfd>();
    expect_file_state(rec, ctx, m.objref);
    if (m.seals & ~seals_all || m.reserved || m.name_len > CR_MEMFD_NAME_MAX)
        ctx.fail(rec, fmt::format("field seals/name_len: {:#x}/{}", m.seals, m.name_len));
    out["objref"] = m.objref;
    out["seals"] = hex(m.seals);
    out["name"] = m.name_len ? bounded_string(rec, ctx, "name", rec.tail(sizeof(m)), m.name_len) : "";
    return sizeof(m) + m.name_len;
}

// The bytes of the unlinked file or memfd whose FILE record came just before.
size_t decode_file_data(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto d = rec.as<cr_rec_file_data>();
    auto& u = ctx.unlinked;
    if (!u.objref || d.objref != u.objref || d.reserved)
        ctx.fail(rec, fmt::format("field objref: {} is not the unlinked FILE just before it", d.objref));
    if (!d.len || d.len > CR_FILE_DATA_MAX || d.len > rec.len - sizeof(d) || d.offset < u.next ||
        d.offset > u.size || d.len > u.size - d.offset)
        ctx.fail(rec, fmt::format("field offset/len: {} bytes at {} do not fit after {} in a file of {}",
                                  d.len, d.offset, u.next, u.size));
    u.next = d.offset + d.len;
    out["objref"] = d.objref;
    out["offset"] = d.offset;
    out["len"] = d.len;
    return sizeof(d) + d.len;
}

size_t decode_pipe(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto p = rec.as<cr_rec_pipe>();
    ctx.define(rec, p.objref, ObjType::pipe);
    if (p.data_len > p.capacity || p.reserved)
        ctx.fail(rec, fmt::format("field data_len: {} bytes in a pipe of {}", p.data_len, p.capacity));
    size_t used = sizeof(p) + p.data_len;
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field data_len: {} bytes do not fit the record", p.data_len));
    out["objref"] = p.objref;
    out["capacity"] = p.capacity;
    out["data_len"] = p.data_len;
    return used;
}

size_t decode_fd_table(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto t = rec.as<cr_rec_fd_table>();
    ctx.define(rec, t.objref, ObjType::files);
    if (t.nr_fds > CR_MAX_FDS)
        ctx.fail(rec, fmt::format("field nr_fds: {} exceeds {}", t.nr_fds, CR_MAX_FDS));
    size_t used = sizeof(t) + size_t(t.nr_fds) * sizeof(cr_fd_entry);
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field nr_fds: {} entries do not fit the record", t.nr_fds));
    out["objref"] = t.objref;
    out["fds"] = nlohmann::json::array();
    for (uint32_t i = 0; i < t.nr_fds; i++) {
        cr_fd_entry e;
        std::memcpy(&e, rec.bytes.data() + sizeof(t) + i * sizeof(e), sizeof(e));
        cr_fd_entry prev{};
        if (i)
            std::memcpy(&prev, rec.bytes.data() + sizeof(t) + (i - 1) * sizeof(e), sizeof(e));
        if ((i && e.fd <= prev.fd) || e.flags & ~uint32_t(CR_FD_CLOEXEC) || e.reserved)
            ctx.fail(rec, fmt::format("field fds[{}]: fd {} out of order or bad flags", i, e.fd));
        ctx.use(rec, "file_ref", e.file_ref, ObjType::file);
        out["fds"].push_back({{"fd", e.fd}, {"file_ref", e.file_ref}, {"cloexec", bool(e.flags & CR_FD_CLOEXEC)}});
    }
    return used;
}

size_t decode_fs(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto f = rec.as<cr_rec_fs>();
    ctx.define(rec, f.objref, ObjType::fs);
    if (f.reserved)
        ctx.fail(rec, "field reserved: not zero");
    if (f.umask & ~0777u)
        ctx.fail(rec, fmt::format("field umask: {:#o}", f.umask));
    out["objref"] = f.objref;
    out["umask"] = fmt::format("{:04o}", f.umask);
    out["cwd"] = bounded_string(rec, ctx, "cwd", rec.tail(sizeof(f)), f.cwd_len);
    return sizeof(f) + f.cwd_len;
}

const RecordKind kinds[] = {
    {CR_REC_FILE, "FILE", sizeof(cr_rec_file), decode_file},
    {CR_REC_PIPE, "PIPE", sizeof(cr_rec_pipe), decode_pipe},
    {CR_REC_FD_TABLE, "FD_TABLE", sizeof(cr_rec_fd_table), decode_fd_table},
    {CR_REC_FS, "FS", sizeof(cr_rec_fs), decode_fs},
    {CR_REC_FILE_DATA, "FILE_DATA", sizeof(cr_rec_file_data), decode_file_data},
    {CR_REC_EVENTFD, "EVENTFD", sizeof(cr_rec_eventfd), decode_eventfd},
    {CR_REC_SIGNALFD, "SIGNALFD", sizeof(cr_rec_signalfd), decode_signalfd},
    {CR_REC_TIMERFD, "TIMERFD", sizeof(cr_rec_timerfd), decode_timerfd},
    {CR_REC_EPOLL, "EPOLL", sizeof(cr_rec_epoll), decode_epoll},
    {CR_REC_MEMFD, "MEMFD", sizeof(cr_rec_memfd), decode_memfd},
};

} // namespace

std::span<const RecordKind> file_record_kinds() { return kinds; }

} // namespace cr
