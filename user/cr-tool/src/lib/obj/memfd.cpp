// MEMFD: a memfd's name and seals (kernel/cr/memfd.c).
#include <fcntl.h>
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020 // Linux 6.3; glibc 2.36's fcntl.h predates it
#endif

#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

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

const RecordKind kinds[] = {
    {CR_REC_MEMFD, "MEMFD", sizeof(cr_rec_memfd), decode_memfd},
};

} // namespace

std::span<const RecordKind> memfd_record_kinds() { return kinds; }

} // namespace cr
