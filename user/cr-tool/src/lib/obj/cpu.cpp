// CPU, FPU and RESTART_BLOCK: one thread's registers and interrupted syscall.
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

size_t decode_cpu(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto c = rec.as<cr_rec_cpu>();
    if (c.nr_tls > 3)
        ctx.fail(rec, fmt::format("field nr_tls: {} exceeds 3", c.nr_tls));
    if (c.reserved)
        ctx.fail(rec, "field reserved: not zero");
    out["ip"] = hex(c.ip);
    out["sp"] = hex(c.sp);
    out["ax"] = static_cast<int64_t>(c.ax);
    out["orig_ax"] = static_cast<int64_t>(c.orig_ax);
    out["fs_base"] = hex(c.fs_base);
    return sizeof(c);
}

size_t decode_fpu(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto f = rec.as<cr_rec_fpu>();
    if (ctx.header && f.size != ctx.header->xsave_size)
        ctx.fail(rec, fmt::format("field size: {}, the header says {}", f.size,
                                  ctx.header->xsave_size));
    if (f.reserved)
        ctx.fail(rec, "field reserved: not zero");
    size_t used = sizeof(f) + f.size;
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field size: {} bytes do not fit the record", f.size));
    out["size"] = f.size;
    return used;
}

size_t decode_restart_block(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto r = rec.as<cr_rec_restart_block>();
    if (r.kind > CR_RESTART_NANOSLEEP)
        ctx.fail(rec, fmt::format("field kind: unknown restart kind {}", r.kind));
    if (r.reserved)
        ctx.fail(rec, "field reserved: not zero");
    out["kind"] = r.kind == CR_RESTART_NANOSLEEP ? "nanosleep" : "none";
    if (r.kind == CR_RESTART_NANOSLEEP) {
        out["clockid"] = r.clockid;
        out["remaining_ns"] = r.remaining_ns;
    }
    return sizeof(r);
}

const RecordKind kinds[] = {
    {CR_REC_CPU, "CPU", sizeof(cr_rec_cpu), decode_cpu},
    {CR_REC_FPU, "FPU", sizeof(cr_rec_fpu), decode_fpu},
    {CR_REC_RESTART_BLOCK, "RESTART_BLOCK", sizeof(cr_rec_restart_block), decode_restart_block},
};

} // namespace

std::span<const RecordKind> cpu_record_kinds() { return kinds; }

} // namespace cr
