// EPOLL: an epoll set's watches (kernel/cr/epoll.c).
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

// The watches of the epoll FILE just before; the files they watch came earlier.
size_t decode_epoll(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto e = rec.as<cr_rec_epoll>();
    expect_file_state(rec, ctx, e.objref);
    if (e.nr_watches > CR_MAX_EPOLL_WATCHES)
        ctx.fail(rec, fmt::format("field nr_watches: {} exceeds {}", e.nr_watches, CR_MAX_EPOLL_WATCHES));
    size_t used = sizeof(e) + size_t(e.nr_watches) * sizeof(cr_epoll_watch);
    if (used > rec.len)
        ctx.fail(rec, fmt::format("field nr_watches: {} watches do not fit the record", e.nr_watches));
    out["objref"] = e.objref;
    out["watches"] = nlohmann::json::array();
    for (uint32_t i = 0; i < e.nr_watches; i++) {
        cr_epoll_watch w;
        std::memcpy(&w, rec.bytes.data() + sizeof(e) + i * sizeof(w), sizeof(w));
        if (w.events & ~CR_EPOLL_EVENTS_ALL || w.flags & ~uint32_t(CR_EPOLL_READY) || w.fd < 0)
            ctx.fail(rec, fmt::format("field watches[{}]: fd {}, events {:#x}, flags {:#x}", i, w.fd,
                                      w.events, w.flags));
        ctx.use(rec, "watches[].file_ref", w.file_ref, ObjType::file);
        out["watches"].push_back({{"fd", w.fd}, {"file_ref", w.file_ref}, {"events", hex(w.events)},
                                  {"data", w.data}, {"ready", bool(w.flags & CR_EPOLL_READY)}});
    }
    return used;
}

const RecordKind kinds[] = {
    {CR_REC_EPOLL, "EPOLL", sizeof(cr_rec_epoll), decode_epoll},
};

} // namespace

std::span<const RecordKind> epoll_record_kinds() { return kinds; }

} // namespace cr
