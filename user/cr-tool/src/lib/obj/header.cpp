// HEADER, TREE and TRAILER: the frame of every image.
#include <unordered_map>

#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

std::string hex_bytes(const uint8_t* p, size_t n)
{
    std::string s;
    for (size_t i = 0; i < n; i++)
        s += fmt::format("{:02x}", p[i]);
    return s;
}

size_t decode_header(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto h = rec.as<cr_rec_header>();
    if (h.magic != CR_IMAGE_MAGIC)
        ctx.fail(rec, "field magic: not a linux-cr image");
    if (h.version != CR_IMAGE_VERSION)
        ctx.fail(rec, fmt::format("field version: {}, this cr-tool reads version {}", h.version,
                                  CR_IMAGE_VERSION));
    if (h.arch != CR_ARCH_NATIVE)
        ctx.fail(rec, fmt::format("field arch: {} is not this machine's ({})", h.arch, CR_ARCH_NATIVE));
    if (h.page_size < 4096 || (h.page_size & (h.page_size - 1)))
        ctx.fail(rec, fmt::format("field page_size: {}", h.page_size));
    if (h.flags & ~CHECKPOINT_FLAGS_ALL)
        ctx.fail(rec, fmt::format("field flags: unknown bits {:#x}", h.flags));
    if (h.reserved)
        ctx.fail(rec, "field reserved: not zero");
    if (!std::memchr(h.release, 0, sizeof(h.release)))
        ctx.fail(rec, "field release: not NUL-terminated");
    out["version"] = h.version;
    out["arch"] = "x86_64";
    out["page_size"] = h.page_size;
    out["flags"] = h.flags;
    out["xsave_features"] = hex(h.xsave_features);
    out["xsave_size"] = h.xsave_size;
    out["time_ns"] = h.time_ns;
    out["image_id"] = hex_bytes(h.image_id, sizeof(h.image_id));
    out["parent_id"] = hex_bytes(h.parent_id, sizeof(h.parent_id));
    out["release"] = std::string(h.release);
    ctx.header = h;
    return sizeof(h);
}

size_t decode_tree(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto t = rec.as<cr_rec_tree>();
    if (t.nr_tasks == 0 || t.nr_tasks > CR_MAX_TASKS)
        ctx.fail(rec, fmt::format("field nr_tasks: {} is not in [1, {}]", t.nr_tasks, CR_MAX_TASKS));
    size_t used = sizeof(t) + size_t(t.nr_tasks) * sizeof(cr_tree_entry);
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field nr_tasks: {} entries do not fit the record", t.nr_tasks));
    if (t.reserved)
        ctx.fail(rec, "field reserved: not zero");
    out["nr_tasks"] = t.nr_tasks;
    out["tasks"] = nlohmann::json::array();
    // The same rules as the kernel's, indexed the same way: pid -> entry, the
    // entry after each parent's last child (its children are adjacent), and
    // each entry's thread-group leader (a process's threads follow it).
    std::unordered_map<int32_t, uint32_t> index;
    std::unordered_map<int32_t, uint32_t> next_child;
    std::vector<uint32_t> leader_of;
    for (uint32_t i = 0; i < t.nr_tasks; i++) {
        cr_tree_entry e;
        std::memcpy(&e, rec.bytes.data() + sizeof(t) + i * sizeof(e), sizeof(e));
        // A session or group 0 is init's: outside any tree.
        if (e.pid <= 0 || e.tgid <= 0 || e.pgid < 0 || e.sid < 0 || e.ppid < 0)
            ctx.fail(rec, fmt::format("field tasks[{}]: pid {} tgid {} pgid {} sid {} ppid {}", i,
                                      e.pid, e.tgid, e.pgid, e.sid, e.ppid));
        if (e.flags & ~uint32_t(CR_TASK_ROOT | CR_TASK_THREAD_LEADER | CR_TASK_ZOMBIE))
            ctx.fail(rec, fmt::format("field tasks[{}].flags: unknown bits {:#x}", i, e.flags));
        uint32_t leader = i;
        if (e.pid != e.tgid) {
            if (e.flags)
                ctx.fail(rec, fmt::format("field tasks[{}].flags: {:#x} on thread {}", i, e.flags, e.pid));
            if (i == 0 || ctx.tree[i - 1].tgid != e.tgid)
                ctx.fail(rec, fmt::format("field tasks[{}]: thread {} does not follow its process {}", i,
                                          e.pid, e.tgid));
            leader = leader_of[i - 1];
            const auto& l = ctx.tree[leader];
            if (e.ppid != l.ppid || e.pgid != l.pgid || e.sid != l.sid)
                ctx.fail(rec, fmt::format("field tasks[{}]: thread {} has another parent, group or session "
                                          "than its process", i, e.pid));
        } else if (!(e.flags & CR_TASK_THREAD_LEADER)) {
            ctx.fail(rec, fmt::format("field tasks[{}]: pid {} leads its thread group but is not flagged so",
                                      i, e.pid));
        }
        leader_of.push_back(leader);
        // The kernel writes the root's process first, then breadth-first: every parent before its children.
        if (bool(e.flags & CR_TASK_ROOT) != (i == 0) || (e.ppid == 0) != (leader == 0))
            ctx.fail(rec, fmt::format("field tasks[{}]: the root, and only its process, comes first without a parent",
                                      i));
        if (i == 0 && (e.flags & CR_TASK_ZOMBIE))
            ctx.fail(rec, "field tasks[0]: the root cannot be a zombie");
        if (!index.emplace(e.pid, i).second)
            ctx.fail(rec, fmt::format("field tasks[{}]: pid {} appears twice", i, e.pid));
        if (e.ppid) {
            auto parent = index.find(e.ppid);
            if (parent == index.end() || parent->second >= i || leader_of[parent->second] != parent->second)
                ctx.fail(rec, fmt::format("field tasks[{}]: parent {} of pid {} is not an earlier process", i,
                                          e.ppid, e.pid));
            if (ctx.tree[parent->second].flags & CR_TASK_ZOMBIE)
                ctx.fail(rec, fmt::format("field tasks[{}]: its parent {} is a zombie", i, e.ppid));
            auto [next, first] = next_child.emplace(e.ppid, i);
            if (!first && next->second != i)
                ctx.fail(rec, fmt::format("field tasks[{}]: not next to the other children of {}", i, e.ppid));
            next->second = i + 1;
        }
        ctx.tree.push_back(e);
        out["tasks"].push_back({{"pid", e.pid}, {"tgid", e.tgid}, {"ppid", e.ppid}, {"pgid", e.pgid},
                                {"sid", e.sid}, {"root", bool(e.flags & CR_TASK_ROOT)},
                                {"thread", e.pid != e.tgid},
                                {"zombie", bool(e.flags & CR_TASK_ZOMBIE)}});
    }
    return used;
}

size_t decode_trailer_entry(const RecordView& rec, DecodeContext& ctx, nlohmann::json&)
{
    ctx.fail(rec, "TRAILER is decoded by the reader itself");
}

const RecordKind kinds[] = {
    {CR_REC_HEADER, "HEADER", sizeof(cr_rec_header), decode_header},
    {CR_REC_TREE, "TREE", sizeof(cr_rec_tree), decode_tree},
    {CR_REC_TRAILER, "TRAILER", sizeof(cr_rec_trailer), decode_trailer_entry},
};

} // namespace

std::span<const RecordKind> header_record_kinds() { return kinds; }

} // namespace cr
