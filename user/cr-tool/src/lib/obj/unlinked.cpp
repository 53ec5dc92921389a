// FILE_DATA: the bytes of an unlinked file or memfd (kernel/cr/unlinked.c).
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

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

const RecordKind kinds[] = {
    {CR_REC_FILE_DATA, "FILE_DATA", sizeof(cr_rec_file_data), decode_file_data},
};

} // namespace

std::span<const RecordKind> unlinked_record_kinds() { return kinds; }

} // namespace cr
