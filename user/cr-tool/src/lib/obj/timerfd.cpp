// TIMERFD: a timerfd's clock and times (kernel/cr/timerfd.c).
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

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

const RecordKind kinds[] = {
    {CR_REC_TIMERFD, "TIMERFD", sizeof(cr_rec_timerfd), decode_timerfd},
};

} // namespace

std::span<const RecordKind> timerfd_record_kinds() { return kinds; }

} // namespace cr
