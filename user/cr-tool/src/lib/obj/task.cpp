// TASK, CREDS and RLIMITS: a task's own state.
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

size_t decode_task(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto t = rec.as<cr_rec_task>();
    if (ctx.tasks >= ctx.tree.size())
        ctx.fail(rec, fmt::format("more TASK records than the TREE's {} tasks", ctx.tree.size()));
    if (t.pid != ctx.tree[ctx.tasks].pid)
        ctx.fail(rec, fmt::format("field pid: {}, the TREE lists {} here", t.pid,
                                  ctx.tree[ctx.tasks].pid));
    if (!t.mm_ref || !t.files_ref || !t.sighand_ref)
        ctx.fail(rec, "field *_ref: a task needs an mm, an fd table and a sighand");
    if (t.reserved || t.reserved2)
        ctx.fail(rec, "field reserved: not zero");
    ctx.named_by_tasks.emplace_back(t.mm_ref, ObjType::mm);
    ctx.named_by_tasks.emplace_back(t.files_ref, ObjType::files);
    ctx.named_by_tasks.emplace_back(t.sighand_ref, ObjType::sighand);
    ctx.tasks++;
    out["pid"] = t.pid;
    out["comm"] = std::string(t.comm, strnlen(t.comm, sizeof(t.comm)));
    out["mm_ref"] = t.mm_ref;
    out["files_ref"] = t.files_ref;
    out["sighand_ref"] = t.sighand_ref;
    out["exit_signal"] = t.exit_signal;
    out["personality"] = t.personality;
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
    out["uid"] = {c.uid, c.euid, c.suid, c.fsuid};
    out["gid"] = {c.gid, c.egid, c.sgid, c.fsgid};
    out["cap_effective"] = hex(c.cap_effective);
    out["cap_permitted"] = hex(c.cap_permitted);
    out["ngroups"] = c.ngroups;
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
};

} // namespace

std::span<const RecordKind> task_record_kinds() { return kinds; }

} // namespace cr
