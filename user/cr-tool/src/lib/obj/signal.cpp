// SIGHAND and SIGNALS: dispositions, the blocked mask and queued signals.
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

size_t decode_sighand(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto s = rec.as<cr_rec_sighand>();
    ctx.define(rec, s.objref, ObjType::sighand);
    if (s.reserved)
        ctx.fail(rec, "field reserved: not zero");
    out["objref"] = s.objref;
    nlohmann::json handled = nlohmann::json::object();
    for (int sig = 1; sig <= CR_NSIG; sig++)
        if (s.action[sig - 1].handler)
            handled[std::to_string(sig)] = s.action[sig - 1].handler == 1 ? "SIG_IGN"
                                                                           : hex(s.action[sig - 1].handler);
    out["actions"] = handled;
    return sizeof(s);
}

size_t decode_signals(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto s = rec.as<cr_rec_signals>();
    if (s.nr_private > CR_MAX_SIGQUEUE || s.nr_shared > CR_MAX_SIGQUEUE)
        ctx.fail(rec, "field nr_private/nr_shared: too many queued signals");
    size_t n = size_t(s.nr_private) + s.nr_shared;
    size_t used = sizeof(s) + n * sizeof(cr_siginfo);
    if (used > rec.len)
        ctx.fail(rec, fmt::format("{} queued signals do not fit the record", n));
    out["blocked"] = hex(s.blocked);
    out["queued"] = nlohmann::json::array();
    for (size_t i = 0; i < n; i++) {
        int32_t signo;
        std::memcpy(&signo, rec.bytes.data() + sizeof(s) + i * sizeof(cr_siginfo), sizeof(signo));
        if (signo < 1 || signo > CR_NSIG)
            ctx.fail(rec, fmt::format("field queue[{}]: signal {}", i, signo));
        out["queued"].push_back(signo);
    }
    out["nr_private"] = s.nr_private;
    out["nr_shared"] = s.nr_shared;
    return used;
}

const RecordKind kinds[] = {
    {CR_REC_SIGHAND, "SIGHAND", sizeof(cr_rec_sighand), decode_sighand},
    {CR_REC_SIGNALS, "SIGNALS", sizeof(cr_rec_signals), decode_signals},
};

} // namespace

std::span<const RecordKind> signal_record_kinds() { return kinds; }

} // namespace cr
