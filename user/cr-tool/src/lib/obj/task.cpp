// TASK, CREDS and RLIMITS: a task's own state; ZOMBIE: all that is left of a dead one (kernel/cr/task.c).
#include <csignal>

#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

// The TREE entry whose section @rec starts: sections come in TREE order.
const cr_tree_entry& next_tree_entry(const RecordView& rec, DecodeContext& ctx, int32_t pid, bool zombie)
{
    if (ctx.tasks >= ctx.tree.size())
        ctx.fail(rec, fmt::format("more task sections than the TREE's {} tasks", ctx.tree.size()));
    const cr_tree_entry& e = ctx.tree[ctx.tasks];
    if (pid != e.pid)
        ctx.fail(rec, fmt::format("field pid: {}, the TREE lists {} here", pid, e.pid));
    if (bool(e.flags & CR_TASK_ZOMBIE) != zombie)
        ctx.fail(rec, fmt::format("pid {} is {}a zombie in the TREE", pid, zombie ? "not " : ""));
    ctx.tasks++;
    return e;
}

size_t decode_zombie(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto z = rec.as<cr_rec_zombie>();
    next_tree_entry(rec, ctx, z.pid, true);
    uint32_t sig = z.exit_code & 0x7f;
    bool valid = !(z.exit_code & ~0xffffU) &&
                 (sig ? !(z.exit_code & 0xff00) && sig != 0x7f && sig <= 64 : !(z.exit_code & 0x80));
    if (!valid)
        ctx.fail(rec, fmt::format("field exit_code: {:#x} is not a wait status", z.exit_code));
    if (z.exit_signal < 0 || z.exit_signal > 64)
        ctx.fail(rec, fmt::format("field exit_signal: {} is not a signal", z.exit_signal));
    if (z.reserved)
        ctx.fail(rec, "field reserved: not zero");
    out["pid"] = z.pid;
    if (sig)
        out["killed_by"] = sig;
    else
        out["exit_status"] = z.exit_code >> 8;
    out["exit_signal"] = z.exit_signal;
    return sizeof(z);
}

size_t decode_task(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto t = rec.as<cr_rec_task>();
    next_tree_entry(rec, ctx, t.pid, false);
    const cr_tree_entry& e = ctx.tree[ctx.tasks - 1];
    if (!t.mm_ref || !t.files_ref || !t.fs_ref || !t.sighand_ref)
        ctx.fail(rec, "field *_ref: a task needs an mm, an fd table, an fs_struct and a sighand");
    // SIGSTOP 19, SIGTSTP 20, SIGTTIN 21, SIGTTOU 22 on x86_64.
    uint32_t stop_signal = t.stop & CR_STOP_SIGMASK;
    if (t.stop & ~uint32_t(CR_STOP_SIGMASK | CR_STOP_REPORTED) ||
        (t.stop && (stop_signal < SIGSTOP || stop_signal > SIGTTOU)))
        ctx.fail(rec, fmt::format("field stop: {:#x} is not a job-control stop", t.stop));
    // A thread sends no signal at its exit; a process at most a signal.
    if (e.pid != e.tgid ? t.exit_signal != -1 : t.exit_signal < 0 || t.exit_signal > 64)
        ctx.fail(rec, fmt::format("field exit_signal: {} for a {}", t.exit_signal,
                                  e.pid != e.tgid ? "thread" : "process"));
    ctx.named_by_tasks.emplace_back(t.mm_ref, ObjType::mm);
    ctx.named_by_tasks.emplace_back(t.files_ref, ObjType::files);
    ctx.named_by_tasks.emplace_back(t.fs_ref, ObjType::fs);
    ctx.named_by_tasks.emplace_back(t.sighand_ref, ObjType::sighand);
    out["pid"] = t.pid;
    out["comm"] = std::string(t.comm, strnlen(t.comm, sizeof(t.comm)));
    out["mm_ref"] = t.mm_ref;
    out["files_ref"] = t.files_ref;
    out["fs_ref"] = t.fs_ref;
    out["sighand_ref"] = t.sighand_ref;
    out["exit_signal"] = t.exit_signal;
    out["personality"] = t.personality;
    if (t.stop)
        out["stopped_by"] = stop_signal;
    return sizeof(t);
}

size_t decode_creds(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto c = rec.as<cr_rec_creds>();
    if (c.ngroups > CR_NGROUPS_MAX)
        ctx.fail(rec, fmt::format("field ngroups: {} exceeds {}", c.ngroups, CR_NGROUPS_MAX));
    size_t used = sizeof(c) + size_t(c.ngroups) * sizeof(uint32_t);
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field ngroups: {} groups do not fit the record", c.ngroups));
    if (c.flags & ~uint32_t(CR_CREDS_FLAGS_ALL))
        ctx.fail(rec, fmt::format("field flags: unknown bits {:#x}", c.flags));
    if (c.seccomp_mode > 1)
        ctx.fail(rec, fmt::format("field seccomp_mode: {} (only 0, none, and 1, strict, are restored)",
                                  c.seccomp_mode));
    out["uid"] = {c.uid, c.euid, c.suid, c.fsuid};
    out["gid"] = {c.gid, c.egid, c.sgid, c.fsgid};
    out["cap_effective"] = hex(c.cap_effective);
    out["cap_permitted"] = hex(c.cap_permitted);
    out["ngroups"] = c.ngroups;
    out["no_new_privs"] = bool(c.flags & CR_CREDS_NO_NEW_PRIVS);
    out["seccomp_mode"] = c.seccomp_mode;
    return used;
}

size_t decode_rlimits(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto r = rec.as<cr_rec_rlimits>();
    out["rlim"] = nlohmann::json::array();
    for (int i = 0; i < CR_NLIMITS; i++) {
        if (r.rlim[i].cur > r.rlim[i].max)
            ctx.fail(rec, fmt::format("field rlim[{}]: soft limit above hard limit", i));
        out["rlim"].push_back({r.rlim[i].cur, r.rlim[i].max});
    }
    return sizeof(r);
}

const RecordKind kinds[] = {
    {CR_REC_TASK, "TASK", sizeof(cr_rec_task), decode_task},
    {CR_REC_CREDS, "CREDS", sizeof(cr_rec_creds), decode_creds},
    {CR_REC_RLIMITS, "RLIMITS", sizeof(cr_rec_rlimits), decode_rlimits},
    {CR_REC_ZOMBIE, "ZOMBIE", sizeof(cr_rec_zombie), decode_zombie},
};

} // namespace

std::span<const RecordKind> task_record_kinds() { return kinds; }

} // namespace cr
