// PIPE: a pipe's capacity and buffered data (kernel/cr/pipe.c).
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

size_t decode_pipe(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto p = rec.as<cr_rec_pipe>();
    ctx.define(rec, p.objref, ObjType::pipe);
    if (p.data_len > p.capacity || p.reserved)
        ctx.fail(rec, fmt::format("field data_len: {} bytes in a pipe of {}", p.data_len, p.capacity));
    size_t used = sizeof(p) + p.data_len;
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field data_len: {} bytes do not fit the record", p.data_len));
    out["objref"] = p.objref;
    out["capacity"] = p.capacity;
    out["data_len"] = p.data_len;
    return used;
}

const RecordKind kinds[] = {
    {CR_REC_PIPE, "PIPE", sizeof(cr_rec_pipe), decode_pipe},
};

} // namespace

std::span<const RecordKind> pipe_record_kinds() { return kinds; }

} // namespace cr
