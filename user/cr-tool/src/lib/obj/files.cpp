// FILE, FD_TABLE and FS: open files, the kinds of file, and where the task
// stands (kernel/cr/files.c). Each kind's own records are in the file of
// its kernel name (pipe.cpp, unlinked.cpp, eventfd.cpp, ...).
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
    {CR_REC_FD_TABLE, "FD_TABLE", sizeof(cr_rec_fd_table), decode_fd_table},
    {CR_REC_FS, "FS", sizeof(cr_rec_fs), decode_fs},
};

} // namespace

std::span<const RecordKind> file_record_kinds() { return kinds; }

// The state record that follows an eventfd, signalfd or timerfd FILE.
void expect_file_state(const RecordView& rec, DecodeContext& ctx, uint32_t objref)
{
    if (!ctx.file_state || ctx.file_state->first != objref || ctx.file_state->second != rec.type)
        ctx.fail(rec, fmt::format("field objref: {} is not the FILE just before it", objref));
    ctx.file_state.reset();
}

} // namespace cr
