// SIGNALFD: a signalfd's mask (kernel/cr/signalfd.c).
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

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

const RecordKind kinds[] = {
    {CR_REC_SIGNALFD, "SIGNALFD", sizeof(cr_rec_signalfd), decode_signalfd},
};

} // namespace

std::span<const RecordKind> signalfd_record_kinds() { return kinds; }

} // namespace cr
