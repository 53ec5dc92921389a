// EVENTFD: an eventfd's counter (kernel/cr/eventfd.c).
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

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

const RecordKind kinds[] = {
    {CR_REC_EVENTFD, "EVENTFD", sizeof(cr_rec_eventfd), decode_eventfd},
};

} // namespace

std::span<const RecordKind> eventfd_record_kinds() { return kinds; }

} // namespace cr
