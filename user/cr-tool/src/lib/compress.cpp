#include "compress.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include <xxhash.h>
#include <zstd.h>

#include "error.hpp"

namespace cr {
namespace {

constexpr size_t chunk_size = 1 << 20;

struct CCtxFree {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
    void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};
struct XxhFree {
    void operator()(XXH64_state_t* s) const { XXH64_freeState(s); }
};

void write_all(int fd, const uint8_t* p, size_t n, const char* what)
{
    while (n) {
        ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            throw_errno("cannot write {}", what);
        p += w;
        n -= static_cast<size_t>(w);
    }
}

ssize_t read_some(int fd, uint8_t* p, size_t n)
{
    for (;;) {
        ssize_t r = ::read(fd, p, n);
        if (r >= 0 || errno != EINTR)
            return r;
    }
}

// The stream's checksum as it passes: all bytes but the last record's,
// which are held back until the end shows they are the TRAILER.
class TrailerCheck {
public:
    TrailerCheck() : state_(XXH64_createState())
    {
        if (!state_)
            throw Failure("out of memory for the image checksum");
        XXH64_reset(state_.get(), 0);
    }

    void feed(const uint8_t* p, size_t n)
    {
        held_.insert(held_.end(), p, p + n);
        if (held_.size() > 2 * sizeof(cr_rec_trailer)) {
            size_t pass = held_.size() - sizeof(cr_rec_trailer);
            XXH64_update(state_.get(), held_.data(), pass);
            held_.erase(held_.begin(), held_.begin() + static_cast<ptrdiff_t>(pass));
        }
    }

    bool ok()
    {
        if (held_.size() < sizeof(cr_rec_trailer))
            return false;
        size_t pass = held_.size() - sizeof(cr_rec_trailer);
        XXH64_update(state_.get(), held_.data(), pass);
        cr_rec_trailer t;
        std::memcpy(&t, held_.data() + pass, sizeof(t));
        return t.h.type == CR_REC_TRAILER && t.h.len == sizeof(t) &&
               t.checksum == XXH64_digest(state_.get());
    }

private:
    std::unique_ptr<XXH64_state_t, XxhFree> state_;
    std::vector<uint8_t> held_;
};

} // namespace

bool is_zstd(std::span<const uint8_t> head)
{
    static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    return head.size() >= sizeof(magic) && std::memcmp(head.data(), magic, sizeof(magic)) == 0;
}

StreamResult compress_stream(int in, int out, int level, unsigned threads,
                             const std::function<void(uint64_t)>& progress)
{
    std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
    if (!cctx)
        throw Failure("cannot create a zstd compression context");
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
    // Workers compress while this thread reads the pipe; a zstd built without them ignores this.
    if (threads > 1)
        ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_nbWorkers, static_cast<int>(threads));
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);

    std::vector<uint8_t> ibuf(chunk_size), obuf(ZSTD_CStreamOutSize());
    TrailerCheck check;
    StreamResult res;
    auto last = std::chrono::steady_clock::now();
    for (bool eof = false; !eof;) {
        ssize_t r = read_some(in, ibuf.data(), ibuf.size());
        if (r < 0)
            throw_errno("cannot read the kernel's stream");
        eof = r == 0;
        check.feed(ibuf.data(), static_cast<size_t>(r));
        res.bytes_in += static_cast<uint64_t>(r);
        ZSTD_inBuffer zin{ibuf.data(), static_cast<size_t>(r), 0};
        ZSTD_EndDirective mode = eof ? ZSTD_e_end : ZSTD_e_continue;
        for (;;) {
            ZSTD_outBuffer zout{obuf.data(), obuf.size(), 0};
            size_t left = ZSTD_compressStream2(cctx.get(), &zout, &zin, mode);
            if (ZSTD_isError(left))
                throw Failure(fmt::format("zstd compression failed: {}", ZSTD_getErrorName(left)));
            write_all(out, obuf.data(), zout.pos, "the compressed image");
            res.bytes_out += zout.pos;
            if (eof ? left == 0 : zin.pos == zin.size)
                break;
        }
        if (progress && std::chrono::steady_clock::now() - last >= std::chrono::seconds(1)) {
            last = std::chrono::steady_clock::now();
            progress(res.bytes_in);
        }
    }
    res.trailer_ok = check.ok();
    return res;
}

Fd decompress_to_memfd(int fd, const char* name)
{
    Fd mem(::memfd_create("cr-image", MFD_CLOEXEC));
    if (!mem)
        throw_errno("cannot create memory for the decompressed {}", name);
    std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
    if (!dctx)
        throw Failure("cannot create a zstd decompression context");
    std::vector<uint8_t> ibuf(ZSTD_DStreamInSize()), obuf(chunk_size);
    // An image larger than this machine's memory could not be restarted here anyway; a small
    // crafted file must not fill the memory before that shows.
    uint64_t limit = uint64_t(::sysconf(_SC_PHYS_PAGES)) * uint64_t(::sysconf(_SC_PAGESIZE));
    uint64_t total = 0;
    bool frame_done = false;    // the last frame read is complete
    off_t at = 0;
    bool any = false;
    for (;;) {
        ssize_t r = ::pread(fd, ibuf.data(), ibuf.size(), at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            throw_errno("cannot read {}", name);
        if (r == 0)
            break;
        at += r;
        any = true;
        ZSTD_inBuffer zin{ibuf.data(), static_cast<size_t>(r), 0};
        // Until the input is used up and, unless a frame just ended, the output no longer fills
        // the buffer (zstd may hold more).
        for (bool full = true; zin.pos < zin.size || (full && !frame_done);) {
            ZSTD_outBuffer zout{obuf.data(), obuf.size(), 0};
            size_t hint = ZSTD_decompressStream(dctx.get(), &zout, &zin);
            if (ZSTD_isError(hint))
                throw Failure(fmt::format("{} is not a valid zstd image (at compressed byte {}): {}", name,
                                          static_cast<long long>(at - r + static_cast<off_t>(zin.pos)),
                                          ZSTD_getErrorName(hint)));
            frame_done = hint == 0;
            total += zout.pos;
            if (total > limit)
                throw Failure(fmt::format("{} decompresses to more than this machine's {} MiB of memory", name,
                                          limit >> 20));
            write_all(mem.get(), obuf.data(), zout.pos, "the decompressed image");
            full = zout.pos == zout.size;
        }
    }
    if (!any || !frame_done)
        throw Failure(fmt::format("{} is a truncated zstd image", name));
    if (::lseek(mem.get(), 0, SEEK_SET) < 0)
        throw_errno("cannot rewind the decompressed {}", name);
    return mem;
}

} // namespace cr
