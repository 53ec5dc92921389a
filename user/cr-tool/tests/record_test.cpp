// The typed record model: every record type encodes and decodes back to
// itself, the records of a whole image re-encode to the same bytes, and
// what is not one canonical record is refused.
#include <gtest/gtest.h>

#include <set>

#include "image_builder.hpp"
#include "record.hpp"

namespace cr::model {
namespace {

// Fill a struct with a byte pattern that differs per struct, so that a
// field copied to the wrong place would show.
template <typename T>
T patterned(uint8_t seed)
{
    T v;
    auto* b = reinterpret_cast<uint8_t*>(&v);
    for (size_t i = 0; i < sizeof(T); i++)
        b[i] = static_cast<uint8_t>(seed + 7 * i);
    return v;
}

std::string bytes_of(size_t n, char seed)
{
    std::string s(n, '\0');
    for (size_t i = 0; i < n; i++)
        s[i] = static_cast<char>(seed + i);
    return s;
}

// One sample of every record type, its tail of an awkward length (not a multiple of 8).
std::vector<Record> samples()
{
    std::vector<Record> out;
    uint8_t seed = 1;
    auto plain = [&]<typename T>(std::in_place_type_t<T>) {
        T m{};
        m.fixed.set(patterned<decltype(m.fixed.get())>(seed++));
        return m;
    };
#define CR_SAMPLE(name, model)                                                                  \
    {                                                                                           \
        using M = CR_MODEL_UNPAREN model;                                                       \
        M m = plain(std::in_place_type<M>);                                                     \
        fill(m);                                                                                \
        out.emplace_back(std::move(m));                                                         \
    }
    auto fill = [&](auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (requires { m.items; }) {
            using E = typename decltype(m.items)::value_type;
            m.items = {patterned<E>(seed++), patterned<E>(seed++), patterned<E>(seed++)};
        } else if constexpr (requires { m.bytes; }) {
            m.bytes = bytes_of(13, static_cast<char>(seed++));
        } else if constexpr (std::is_same_v<M, Signals>) {
            m.queue = {patterned<cr_siginfo>(seed++), patterned<cr_siginfo>(seed++)};
            m.fixed->nr_private = 1;
        } else if constexpr (std::is_same_v<M, Pages>) {
            m.vaddr = {0x10000, 0x11000, 0x13000};
            m.data = bytes_of(3 * 4096, 'p');
        }
    };
    CR_MODEL_RECORDS(CR_SAMPLE)
#undef CR_SAMPLE
    return out;
}

TEST(RecordModel, CoversEveryRecordTypeOfTheHeader)
{
    std::set<uint32_t> seen;
    for (const Record& r : samples())
        seen.insert(record_type(r));
    auto types = model_record_types();
    EXPECT_EQ(seen, std::set<uint32_t>(types.begin(), types.end()));
    EXPECT_EQ(seen.size(), types.size());
}

TEST(RecordModel, EveryRecordTypeRoundTrips)
{
    for (const Record& r : samples()) {
        SCOPED_TRACE(record_type(r));
        std::vector<uint8_t> bytes = encode_record(r);
        ASSERT_EQ(bytes.size() % 8, 0u);
        cr_hdr h;
        std::memcpy(&h, bytes.data(), sizeof(h));
        EXPECT_EQ(h.type, record_type(r));
        EXPECT_EQ(h.len, bytes.size());
        Record back = decode_record(bytes);
        // The encoder set the header and the count fields; the rest is what was given.
        EXPECT_EQ(encode_record(back), bytes);
        EXPECT_EQ(back.index(), r.index());
    }
}

TEST(RecordModel, CountFieldsFollowTheTail)
{
    WithBytes<cr_rec_file, &cr_rec_file::path_len> file;
    file.bytes = "/etc/hostname";
    auto back = std::get<decltype(file)>(decode_record(encode_record(Record{file})));
    EXPECT_EQ(back.fixed->path_len, 13u);
    EXPECT_EQ(back.bytes, "/etc/hostname");

    WithArray<cr_rec_fd_table, cr_fd_entry, &cr_rec_fd_table::nr_fds> fds;
    fds.items = {{0, 0, 2, 0}, {1, 1, 3, 0}};
    auto fds_back = std::get<decltype(fds)>(decode_record(encode_record(Record{fds})));
    EXPECT_EQ(fds_back.fixed->nr_fds, 2u);
    EXPECT_EQ(fds_back.items[1].file_ref, 3u);

    Signals sig;
    sig.queue.resize(3);
    sig.fixed->nr_private = 2;
    auto sig_back = std::get<Signals>(decode_record(encode_record(Record{sig})));
    EXPECT_EQ(sig_back.fixed->nr_shared, 1u);
}

TEST(RecordModel, AWholeImageReencodesToTheSameBytes)
{
    std::vector<uint8_t> image = test::valid_image();
    std::vector<uint8_t> again;
    size_t at = 0, records = 0;
    while (at < image.size()) {
        cr_hdr h;
        std::memcpy(&h, image.data() + at, sizeof(h));
        ASSERT_GE(h.len, sizeof(h));
        ASSERT_LE(h.len, image.size() - at);
        Record r = decode_record(std::span(image).subspan(at, h.len));
        auto bytes = encode_record(r);
        again.insert(again.end(), bytes.begin(), bytes.end());
        at += h.len;
        records++;
    }
    EXPECT_EQ(again, image);
    EXPECT_GT(records, 10u);
}

TEST(RecordModel, RefusesWhatIsNotOneCanonicalRecord)
{
    WithBytes<cr_rec_file, &cr_rec_file::path_len> file;
    file.bytes = "/tmp/x";
    std::vector<uint8_t> bytes = encode_record(Record{file});

    auto longer = bytes;                       // a path_len beyond the record
    cr_rec_file f;
    std::memcpy(&f, longer.data(), sizeof(f));
    f.path_len = 4096;
    std::memcpy(longer.data(), &f, sizeof(f));
    EXPECT_THROW(decode_record(longer), FrameError);

    auto padded = bytes;                       // padding that is not zero
    padded.back() = 1;
    EXPECT_THROW(decode_record(padded), FrameError);

    auto extra = bytes;                        // 8 bytes more than the record needs
    extra.resize(extra.size() + 8, 0);
    cr_hdr h{CR_REC_FILE, static_cast<uint32_t>(extra.size())};
    std::memcpy(extra.data(), &h, sizeof(h));
    EXPECT_THROW(decode_record(extra), FrameError);

    auto truncated = std::vector<uint8_t>(bytes.begin(), bytes.begin() + 16);
    h = {CR_REC_FILE, 16};
    std::memcpy(truncated.data(), &h, sizeof(h));
    EXPECT_THROW(decode_record(truncated), FrameError);

    std::vector<uint8_t> unknown(8, 0);
    h = {999, 8};
    std::memcpy(unknown.data(), &h, sizeof(h));
    EXPECT_THROW(decode_record(unknown), FrameError);

    EXPECT_THROW(encode_record(Record{}), FrameError);
}

} // namespace
} // namespace cr::model
