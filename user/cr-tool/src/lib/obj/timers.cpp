// ITIMERS and POSIX_TIMERS: a process's interval and POSIX timers (kernel/cr/timers.c).
#include <csignal>

#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

size_t decode_itimers(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    static const char* const names[3] = {"real", "virtual", "prof"};
    auto r = rec.as<cr_rec_itimers>();
    for (int i = 0; i < 3; i++) {
        if (r.it[i].value_ns > INT64_MAX || r.it[i].interval_ns > INT64_MAX)
            ctx.fail(rec, fmt::format("field it[{}]: out of range", i));
        if (r.it[i].value_ns || r.it[i].interval_ns)
            out[names[i]] = {{"value_ns", r.it[i].value_ns}, {"interval_ns", r.it[i].interval_ns}};
    }
    return sizeof(r);
}

size_t decode_posix_timers(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto r = rec.as<cr_rec_posix_timers>();
    if (ctx.tasks == 0)
        ctx.fail(rec, "POSIX_TIMERS outside a task section");
    const cr_tree_entry& e = ctx.tree[ctx.tasks - 1];
    if (r.nr_timers > CR_MAX_POSIX_TIMERS || r.next_id < 0 || (r.nr_timers && e.pid != e.tgid))
        ctx.fail(rec, fmt::format("field nr_timers/next_id: {}/{} (a thread's section has none)", r.nr_timers,
                                  r.next_id));
    size_t used = sizeof(r) + size_t(r.nr_timers) * sizeof(cr_posix_timer);
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field nr_timers: {} timers do not fit the record", r.nr_timers));
    out["next_id"] = r.next_id;
    out["timers"] = nlohmann::json::array();
    for (uint32_t i = 0; i < r.nr_timers; i++) {
        cr_posix_timer t;
        std::memcpy(&t, rec.bytes.data() + sizeof(r) + i * sizeof(t), sizeof(t));
        // CLOCK_REALTIME 0, MONOTONIC 1, BOOTTIME 7, TAI 11; SIGEV_SIGNAL 0, NONE 1, THREAD 2, THREAD_ID 4.
        bool clock_ok = t.clockid == 0 || t.clockid == 1 || t.clockid == 7 || t.clockid == 11;
        bool notify_ok = t.notify == 0 || t.notify == 1 || t.notify == 2 || t.notify == 4;
        bool signaled = t.flags & CR_POSIX_TIMER_SIGNALED;
        if (t.id < 0 || !clock_ok || !notify_ok || t.flags & ~uint32_t(CR_POSIX_TIMER_SIGNALED) ||
            t.interval_ns > INT64_MAX || t.remaining_ns > INT64_MAX || t.overrun < 0 || t.pending_overrun < 0 ||
            (t.notify != 1 && (t.signo < 1 || t.signo > 64)) || (signaled && t.notify == 1))
            ctx.fail(rec, fmt::format("field timers[{}]: id {}, clock {}, notify {}, signal {}, flags {:#x}", i, t.id,
                                      t.clockid, t.notify, t.signo, t.flags));
        out["timers"].push_back({{"id", t.id},
                                 {"clockid", t.clockid},
                                 {"notify", t.notify},
                                 {"signo", t.signo},
                                 {"value", t.value},
                                 {"tid", t.tid},
                                 {"interval_ns", t.interval_ns},
                                 {"remaining_ns", t.remaining_ns},
                                 {"overrun", t.overrun},
                                 {"signal_queued", signaled}});
    }
    return used;
}

const RecordKind kinds[] = {
    {CR_REC_ITIMERS, "ITIMERS", sizeof(cr_rec_itimers), decode_itimers},
    {CR_REC_POSIX_TIMERS, "POSIX_TIMERS", sizeof(cr_rec_posix_timers), decode_posix_timers},
};

} // namespace

std::span<const RecordKind> timers_record_kinds() { return kinds; }

} // namespace cr
