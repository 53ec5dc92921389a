// libFuzzer target: the image reader behind `cr-tool verify`, `inspect` and
// `restart`, fed arbitrary bytes. An image is untrusted input: whatever it
// holds, decode_image() must return valid or invalid with an offset and a
// reason, never crash, hang or touch memory it does not own (the fuzzer
// build runs under ASan and UBSan). The typed record model is held to its
// own promise on the same bytes: every record it accepts encodes back to
// exactly the bytes it came from.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "image.hpp"
#include "record.hpp"

static void check_model(std::span<const uint8_t> data)
{
    size_t at = 0;
    while (data.size() - at >= sizeof(cr_hdr)) {
        cr_hdr h;
        std::memcpy(&h, data.data() + at, sizeof(h));
        if (h.len < sizeof(h) || h.len > data.size() - at)
            return;
        auto bytes = data.subspan(at, h.len);
        try {
            auto again = cr::model::encode_record(cr::model::decode_record(bytes));
            if (again.size() != bytes.size() || std::memcmp(again.data(), bytes.data(), bytes.size()))
                __builtin_trap();
        } catch (const cr::model::FrameError&) {
        }
        at += h.len;
    }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    cr::DecodedImage img = cr::decode_image(std::span<const uint8_t>(data, size), true);
    // An invalid image names where it went wrong, inside the image.
    if (!img.valid && img.error_offset > size)
        __builtin_trap();
    check_model(std::span<const uint8_t>(data, size));
    return 0;
}
