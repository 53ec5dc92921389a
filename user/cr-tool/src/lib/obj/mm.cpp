// MM, VMA, PAGES and MM_END: an address space and the pages it saved.
#include <fmt/format.h>

#include "image.hpp"

namespace cr {
namespace {

const char* vma_kind_name(uint32_t kind)
{
    switch (kind) {
    case CR_VMA_ANON: return "anon";
    case CR_VMA_ANON_SHARED: return "anon-shared";
    case CR_VMA_FILE_PRIVATE: return "file-private";
    case CR_VMA_FILE_SHARED: return "file-shared";
    case CR_VMA_VDSO: return "vdso";
    case CR_VMA_VVAR: return "vvar";
    }
    return nullptr;
}

size_t decode_mm(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto m = rec.as<cr_rec_mm>();
    ctx.define(rec, m.objref, ObjType::mm);
    if (m.nr_vmas > CR_MAX_VMAS)
        ctx.fail(rec, fmt::format("field nr_vmas: {} exceeds {}", m.nr_vmas, CR_MAX_VMAS));
    if (m.dumpable > 2)
        ctx.fail(rec, fmt::format("field dumpable: {} is not 0, 1 or 2", m.dumpable));
    std::string exe = m.exe_len ? bounded_string(rec, ctx, "exe", rec.tail(sizeof(m)), m.exe_len) : "";
    ctx.mm = DecodeContext::MmSection{m.objref, m.nr_vmas};
    out["objref"] = m.objref;
    out["nr_vmas"] = m.nr_vmas;
    out["exe"] = exe;
    out["dumpable"] = m.dumpable;
    out["brk"] = hex(m.brk);
    out["start_stack"] = hex(m.start_stack);
    return sizeof(m) + m.exe_len;
}

size_t decode_vma(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto v = rec.as<cr_rec_vma>();
    const char* kind = vma_kind_name(v.kind);
    uint64_t page = ctx.page_size();
    if (!ctx.mm.objref || !ctx.mm.vmas_left)
        ctx.fail(rec, "a VMA outside an MM section, or more VMAs than the MM's nr_vmas");
    if (!kind)
        ctx.fail(rec, fmt::format("field kind: unknown mapping kind {}", v.kind));
    if (v.start >= v.end || v.start % page || v.end % page || v.start < ctx.mm.prev_end)
        ctx.fail(rec, fmt::format("field start/end: {}-{} is not a page range above {}", hex(v.start),
                                  hex(v.end), hex(ctx.mm.prev_end)));
    if (v.prot & ~7u || v.flags & ~uint32_t(CR_VMA_FLAGS_ALL))
        ctx.fail(rec, "field prot/flags: unknown bits");
    if (v.nr_pages > (v.end - v.start) / page)
        ctx.fail(rec, fmt::format("field nr_pages: {} exceeds the mapping's {} pages", v.nr_pages,
                                  (v.end - v.start) / page));
    bool file_kind = v.kind == CR_VMA_FILE_PRIVATE || v.kind == CR_VMA_FILE_SHARED;
    if (file_kind) {
        ctx.use(rec, "file_ref", v.file_ref, ObjType::file);
    } else if (v.kind == CR_VMA_ANON_SHARED) {
        // The first mapping of shared memory defines it, maps all of it and carries its pages.
        if (!ctx.objrefs.contains(v.file_ref)) {
            ctx.define(rec, v.file_ref, ObjType::shm);
            if (v.pgoff)
                ctx.fail(rec, "field pgoff: the first mapping of shared memory maps it from 0");
        } else {
            ctx.use(rec, "file_ref", v.file_ref, ObjType::shm);
            if (v.nr_pages)
                ctx.fail(rec, "field nr_pages: the pages of shared memory come with its first mapping");
        }
    } else if (v.file_ref) {
        ctx.fail(rec, "field file_ref: set on a mapping that is not of a file or shared memory");
    }
    ctx.mm.vmas_left--;
    ctx.mm.prev_end = v.end;
    ctx.mm.vma_start = v.start;
    ctx.mm.vma_end = v.end;
    ctx.vma_pages_left = v.nr_pages;
    out["start"] = hex(v.start);
    out["end"] = hex(v.end);
    out["kind"] = kind;
    out["prot"] = fmt::format("{}{}{}", v.prot & 1 ? 'r' : '-', v.prot & 2 ? 'w' : '-',
                              v.prot & 4 ? 'x' : '-');
    out["nr_pages"] = v.nr_pages;
    if (v.file_ref)
        out["file_ref"] = v.file_ref;
    return sizeof(v);
}

size_t decode_pages(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto p = rec.as<cr_rec_pages>();
    uint64_t page = ctx.page_size();
    if (p.nr == 0 || p.nr > CR_PAGES_PER_REC || p.nr > ctx.vma_pages_left)
        ctx.fail(rec, fmt::format("field nr: {} pages (at most {}, {} left in the VMA)", p.nr,
                                  CR_PAGES_PER_REC, ctx.vma_pages_left));
    if (p.flags)
        ctx.fail(rec, fmt::format("field flags: {:#x} (pages in a parent image are not supported)",
                                  p.flags));
    size_t used = sizeof(p) + size_t(p.nr) * (8 + page);
    if (used > rec.len)
        ctx.fail(rec, fmt::format("{} pages do not fit the record", p.nr));
    uint64_t prev = 0;
    for (uint32_t i = 0; i < p.nr; i++) {
        uint64_t addr;
        std::memcpy(&addr, rec.bytes.data() + sizeof(p) + i * 8, 8);
        if (addr % page || addr < ctx.mm.vma_start || addr >= ctx.mm.vma_end || (i && addr <= prev))
            ctx.fail(rec, fmt::format("field vaddr[{}]: {} is not an ascending page of the VMA", i,
                                      hex(addr)));
        prev = addr;
    }
    ctx.vma_pages_left -= p.nr;
    ctx.pages += p.nr;
    ctx.mm.pages += p.nr;
    out["nr"] = p.nr;
    return used;
}

size_t decode_mm_end(const RecordView& rec, DecodeContext& ctx, nlohmann::json& out)
{
    auto e = rec.as<cr_rec_mm_end>();
    if (e.objref != ctx.mm.objref || !ctx.mm.objref)
        ctx.fail(rec, fmt::format("field objref: {} does not close the open MM section", e.objref));
    if (ctx.mm.vmas_left)
        ctx.fail(rec, fmt::format("{} VMAs the MM announced are missing", ctx.mm.vmas_left));
    if (e.nr_pages != ctx.mm.pages)
        ctx.fail(rec, fmt::format("field nr_pages: {}, the section holds {}", e.nr_pages, ctx.mm.pages));
    if (e.reserved)
        ctx.fail(rec, "field reserved: not zero");
    ctx.mm = {};
    out["nr_pages"] = e.nr_pages;
    return sizeof(e);
}

const RecordKind kinds[] = {
    {CR_REC_MM, "MM", sizeof(cr_rec_mm), decode_mm},
    {CR_REC_VMA, "VMA", sizeof(cr_rec_vma), decode_vma},
    {CR_REC_PAGES, "PAGES", sizeof(cr_rec_pages), decode_pages},
    {CR_REC_MM_END, "MM_END", sizeof(cr_rec_mm_end), decode_mm_end},
};

} // namespace

std::span<const RecordKind> mm_record_kinds() { return kinds; }

} // namespace cr
