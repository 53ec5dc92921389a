// The image reader must accept a well-formed image and say clearly why a
// damaged one is not: never crash, never call a broken image valid.
#include <gtest/gtest.h>

#include "image.hpp"
#include "image_builder.hpp"

namespace cr::test {
namespace {

DecodedImage decode(const std::vector<uint8_t>& bytes) { return decode_image(bytes, true); }

// Offsets of every record, found by walking the lens.
std::vector<size_t> record_offsets(const std::vector<uint8_t>& img)
{
    std::vector<size_t> offs;
    for (size_t pos = 0; pos < img.size();) {
        offs.push_back(pos);
        cr_hdr h;
        std::memcpy(&h, img.data() + pos, sizeof(h));
        pos += h.len;
    }
    return offs;
}

// Offset of the first record of @type.
size_t offset_of(const std::vector<uint8_t>& img, uint32_t type)
{
    for (size_t off : record_offsets(img))
        if (reinterpret_cast<const cr_hdr*>(img.data() + off)->type == type)
            return off;
    throw std::runtime_error("no such record");
}

cr_hdr* header_at(std::vector<uint8_t>& img, size_t index)
{
    return reinterpret_cast<cr_hdr*>(img.data() + record_offsets(img)[index]);
}

// Recompute the trailer so a test breaks exactly one thing.
void reseal(std::vector<uint8_t>& img)
{
    auto offs = record_offsets(img);
    size_t at = offs.back();
    cr_rec_trailer t;
    std::memcpy(&t, img.data() + at, sizeof(t));
    t.checksum = image_checksum(std::span(img).first(at));
    std::memcpy(img.data() + at, &t, sizeof(t));
}

TEST(ImageReader, AcceptsAWellFormedImage)
{
    auto img = decode(valid_image());
    ASSERT_TRUE(img.valid) << img.error;
    EXPECT_EQ(img.ctx.tasks, 1u);
    EXPECT_EQ(img.ctx.pages, 1u);
    EXPECT_EQ(img.ctx.tree.at(0).pid, 100);
    EXPECT_EQ(img.records.at(0)["type"], "HEADER");
}

TEST(ImageReader, ReportsEveryTruncationAsTruncated)
{
    auto full = valid_image();
    for (size_t cut = 0; cut < full.size(); cut += 8) {
        std::vector<uint8_t> img(full.begin(), full.begin() + cut);
        auto r = decode(img);
        EXPECT_FALSE(r.valid) << "cut at " << cut;
        EXPECT_NE(r.error.find("truncated"), std::string::npos) << "cut at " << cut << ": " << r.error;
    }
}

TEST(ImageReader, DetectsEverySingleBitFlip)
{
    auto full = valid_image();
    for (size_t byte = 0; byte < full.size(); byte += 3) {
        for (int bit : {0, 5}) {
            auto img = full;
            img[byte] ^= uint8_t(1u << bit);
            EXPECT_FALSE(decode(img).valid) << "byte " << byte << " bit " << bit;
        }
    }
}

TEST(ImageReader, NamesAChecksumMismatch)
{
    auto img = valid_image();
    auto offs = record_offsets(img);
    img[offs[10] + 200] ^= 0xff;  // inside the PAGES data: structure stays intact
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("checksum mismatch"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesALenThatIsNotAMultipleOf8)
{
    auto img = valid_image();
    header_at(img, 2)->len += 4;
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("multiple of 8"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesALenBeyondTheImage)
{
    auto img = valid_image();
    header_at(img, 3)->len = 1u << 20;
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("truncated"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesALenShorterThanTheRecord)
{
    auto img = valid_image();
    header_at(img, 2)->len = 8;
    EXPECT_FALSE(decode(img).valid);
}

TEST(ImageReader, RefusesAnUnknownRecordType)
{
    auto img = valid_image();
    header_at(img, 4)->type = 999;
    reseal(img);
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("unknown record type 999"), std::string::npos) << r.error;
}

// The TREE's one entry, to edit in place.
cr_tree_entry* tree_entry(std::vector<uint8_t>& img)
{
    return reinterpret_cast<cr_tree_entry*>(img.data() + record_offsets(img)[1] + sizeof(cr_rec_tree));
}

TEST(ImageReader, RefusesATreeWithoutItsRootFirst)
{
    auto img = valid_image();
    tree_entry(img)->flags &= ~uint32_t(CR_TASK_ROOT);
    reseal(img);
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("the root, and only its process, comes first"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesAThreadThatDoesNotFollowItsProcess)
{
    auto img = valid_image();
    tree_entry(img)->tgid = 99;
    tree_entry(img)->flags = 0;
    reseal(img);
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("thread 100 does not follow its process 99"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesAZombieRoot)
{
    auto img = valid_image();
    tree_entry(img)->flags |= CR_TASK_ZOMBIE;
    reseal(img);
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("the root cannot be a zombie"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesAZombieSectionForALiveTask)
{
    // The TASK record of the one live task replaced by a ZOMBIE record of the same size class.
    ImageBuilder b;
    auto good = valid_image();
    auto offs = record_offsets(good);
    b.bytes.assign(good.begin(), good.begin() + offs[2]);   // HEADER, TREE
    b.records = 2;
    cr_rec_zombie z{};
    z.pid = 100;
    z.exit_code = 3 << 8;
    z.exit_signal = 17;
    b.add(CR_REC_ZOMBIE, z);
    b.finish();
    auto r = decode(b.bytes);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("is not a zombie in the TREE"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesAnFdTableNamingAnUndefinedFile)
{
    auto img = valid_image();
    auto* e = reinterpret_cast<cr_fd_entry*>(img.data() + offset_of(img, CR_REC_FD_TABLE) + sizeof(cr_rec_fd_table));
    e->file_ref = 77;
    reseal(img);
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("objref 77 is not defined"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesAReusedObjref)
{
    auto img = valid_image();
    auto* file = reinterpret_cast<cr_rec_file*>(img.data() + offset_of(img, CR_REC_FILE));
    file->objref = 1;  // the MM's id
    reseal(img);
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("defined twice"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesDataAfterTheTrailer)
{
    auto img = valid_image();
    img.resize(img.size() + 8, 0);
    EXPECT_FALSE(decode(img).valid);
}

TEST(ImageReader, RefusesPagesOutsideTheirVma)
{
    auto img = valid_image();
    uint64_t bad = 0x40000;
    std::memcpy(img.data() + offset_of(img, CR_REC_PAGES) + sizeof(cr_rec_pages), &bad, 8);
    reseal(img);
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("vaddr[0]"), std::string::npos) << r.error;
}

TEST(ImageReader, RefusesACpuRecordWhosePaddingIsNotZero)
{
    auto img = valid_image();
    reinterpret_cast<cr_rec_cpu*>(img.data() + offset_of(img, CR_REC_CPU))->reserved = 1;
    reseal(img);
    auto r = decode(img);
    ASSERT_FALSE(r.valid);
    EXPECT_NE(r.error.find("field reserved"), std::string::npos) << r.error;
}

} // namespace
} // namespace cr::test
