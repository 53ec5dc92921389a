// Framing of the stream's records: see record.hpp.
#include "record.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

#include "uapi_record_types.hpp"   // generated from <linux/checkpoint.h> by CMake

namespace cr::model {
namespace {

constexpr size_t align8(size_t n) { return (n + 7) & ~size_t(7); }

#define CR_MODEL_NUMBER(name, model) CR_REC_##name,
constexpr uint32_t model_types_in_order[] = {CR_MODEL_RECORDS(CR_MODEL_NUMBER)};
#undef CR_MODEL_NUMBER

constexpr auto sorted(auto list)
{
    std::sort(list.begin(), list.end());
    return list;
}
constexpr auto model_types_sorted = sorted(std::to_array(model_types_in_order));

// Every record type of the uapi header has a model, and no model is of a type the header lacks.
static_assert(std::size(uapi_record_types) == std::size(model_types_in_order),
              "a CR_REC_* type of <linux/checkpoint.h> has no model in CR_MODEL_RECORDS, or the reverse");
static_assert(sorted(std::to_array(uapi_record_types)) == model_types_sorted,
              "CR_MODEL_RECORDS and the CR_REC_* types of <linux/checkpoint.h> differ");
static_assert(std::variant_size_v<Record> == std::size(model_types_in_order) + 1);

struct Reader {
    std::span<const uint8_t> bytes;
    uint32_t type;

    [[noreturn]] void fail(const std::string& what) const
    {
        throw FrameError(fmt::format("record type {}: {}", type, what));
    }
    template <typename Fixed>
    Fixed fixed() const
    {
        if (bytes.size() < sizeof(Fixed))
            fail(fmt::format("{} bytes, shorter than its fixed part ({})", bytes.size(), sizeof(Fixed)));
        Fixed f;
        std::memcpy(&f, bytes.data(), sizeof(Fixed));
        return f;
    }
    // [at, at + len) must lie in the record; returns it.
    std::span<const uint8_t> part(size_t at, uint64_t len) const
    {
        if (at > bytes.size() || len > bytes.size() - at)
            fail(fmt::format("{} bytes at {} do not fit in its {}", len, at, bytes.size()));
        return bytes.subspan(at, len);
    }
    // The record is exactly @used bytes rounded up to 8, the rest zero.
    void canonical(size_t used) const
    {
        if (bytes.size() != align8(used))
            fail(fmt::format("length {} is not its {} bytes rounded up to 8", bytes.size(), used));
        for (size_t i = used; i < bytes.size(); i++)
            if (bytes[i])
                fail(fmt::format("padding byte {} is not zero", i));
    }
};

// Copy @n elements from @at of the record into @out; returns the bytes they took.
template <typename E>
size_t read_array(const Reader& r, size_t at, uint64_t n, std::vector<E>& out)
{
    auto part = r.part(at, n * sizeof(E));
    out.resize(n);
    if (n)
        std::memcpy(out.data(), part.data(), part.size());
    return part.size();
}

struct Writer {
    std::vector<uint8_t> out;

    void put(const void* p, size_t n)
    {
        auto* b = static_cast<const uint8_t*>(p);
        out.insert(out.end(), b, b + n);
    }
    // Pad to 8 and write the header: @fixed is at the start of out.
    std::vector<uint8_t> finish(uint32_t type)
    {
        out.resize(align8(out.size()), 0);
        cr_hdr h{type, static_cast<uint32_t>(out.size())};
        std::memcpy(out.data(), &h, sizeof(h));
        return std::move(out);
    }
};

template <typename M>
struct Codec;

template <typename Fixed>
struct Codec<Plain<Fixed>> {
    static Plain<Fixed> decode(const Reader& r, uint32_t)
    {
        Plain<Fixed> m;
        m.fixed.set(r.fixed<Fixed>());
        r.canonical(sizeof(Fixed));
        return m;
    }
    static void encode(const Plain<Fixed>& m, Writer& w) { w.put(m.fixed.raw, sizeof(Fixed)); }
};

template <typename Fixed, typename Elem, auto Count>
struct Codec<WithArray<Fixed, Elem, Count>> {
    using M = WithArray<Fixed, Elem, Count>;
    static M decode(const Reader& r, uint32_t)
    {
        M m;
        m.fixed.set(r.fixed<Fixed>());
        r.canonical(sizeof(Fixed) + read_array(r, sizeof(Fixed), m.fixed.get().*Count, m.items));
        return m;
    }
    static void encode(const M& m, Writer& w)
    {
        Fixed f = m.fixed.get();
        f.*Count = static_cast<std::remove_reference_t<decltype(f.*Count)>>(m.items.size());
        w.put(&f, sizeof(f));
        w.put(m.items.data(), m.items.size() * sizeof(Elem));
    }
};

template <typename Fixed, auto Len>
struct Codec<WithBytes<Fixed, Len>> {
    using M = WithBytes<Fixed, Len>;
    static M decode(const Reader& r, uint32_t)
    {
        M m;
        m.fixed.set(r.fixed<Fixed>());
        auto tail = r.part(sizeof(Fixed), m.fixed.get().*Len);
        m.bytes.assign(tail.begin(), tail.end());
        r.canonical(sizeof(Fixed) + tail.size());
        return m;
    }
    static void encode(const M& m, Writer& w)
    {
        Fixed f = m.fixed.get();
        f.*Len = static_cast<std::remove_reference_t<decltype(f.*Len)>>(m.bytes.size());
        w.put(&f, sizeof(f));
        w.put(m.bytes.data(), m.bytes.size());
    }
};

template <>
struct Codec<Signals> {
    static Signals decode(const Reader& r, uint32_t)
    {
        Signals m;
        m.fixed.set(r.fixed<cr_rec_signals>());
        uint64_t n = uint64_t(m.fixed->nr_private) + m.fixed->nr_shared;
        r.canonical(sizeof(cr_rec_signals) + read_array(r, sizeof(cr_rec_signals), n, m.queue));
        return m;
    }
    static void encode(const Signals& m, Writer& w)
    {
        // nr_private says where the private ones end; the rest are shared.
        cr_rec_signals f = m.fixed.get();
        if (f.nr_private > m.queue.size())
            throw FrameError("SIGNALS: nr_private exceeds the queue");
        f.nr_shared = static_cast<uint32_t>(m.queue.size() - f.nr_private);
        w.put(&f, sizeof(f));
        w.put(m.queue.data(), m.queue.size() * sizeof(cr_siginfo));
    }
};

template <>
struct Codec<Pages> {
    static Pages decode(const Reader& r, uint32_t page_size)
    {
        Pages m;
        m.fixed.set(r.fixed<cr_rec_pages>());
        uint64_t n = m.fixed->nr;
        size_t at = align8(sizeof(cr_rec_pages) + read_array(r, sizeof(cr_rec_pages), n, m.vaddr));
        auto data = r.part(at, n * page_size);
        m.data.assign(data.begin(), data.end());
        r.canonical(at + data.size());
        return m;
    }
    static void encode(const Pages& m, Writer& w)
    {
        cr_rec_pages f = m.fixed.get();
        f.nr = static_cast<uint32_t>(m.vaddr.size());
        w.put(&f, sizeof(f));
        w.put(m.vaddr.data(), m.vaddr.size() * sizeof(uint64_t));
        w.out.resize(align8(w.out.size()), 0);
        w.put(m.data.data(), m.data.size());
    }
};

using DecodeFn = Record (*)(const Reader&, uint32_t);

template <size_t... I>
constexpr std::array<DecodeFn, sizeof...(I)> decoders(std::index_sequence<I...>)
{
    return {+[](const Reader& r, uint32_t page_size) -> Record {
        using M = std::variant_alternative_t<I + 1, Record>;
        return Record{std::in_place_index<I + 1>, Codec<M>::decode(r, page_size)};
    }...};
}
constexpr auto decode_table = decoders(std::make_index_sequence<std::size(model_types_in_order)>());

} // namespace

Record decode_record(std::span<const uint8_t> bytes, uint32_t page_size)
{
    if (bytes.size() < sizeof(cr_hdr))
        throw FrameError(fmt::format("{} bytes: no record header", bytes.size()));
    cr_hdr h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    if (h.len != bytes.size())
        throw FrameError(fmt::format("record type {}: header length {}, given {} bytes", h.type, h.len,
                                     bytes.size()));
    for (size_t i = 0; i < std::size(model_types_in_order); i++)
        if (model_types_in_order[i] == h.type)
            return decode_table[i](Reader{bytes, h.type}, page_size);
    throw FrameError(fmt::format("record type {}: unknown", h.type));
}

uint32_t record_type(const Record& rec)
{
    if (rec.index() == 0)
        throw FrameError("an empty record");
    return model_types_in_order[rec.index() - 1];
}

std::vector<uint8_t> encode_record(const Record& rec)
{
    uint32_t type = record_type(rec);
    Writer w;
    std::visit(
        [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (!std::is_same_v<M, std::monostate>)
                Codec<M>::encode(m, w);
        },
        rec);
    return w.finish(type);
}

std::span<const uint32_t> model_record_types() { return model_types_sorted; }

} // namespace cr::model
