// libFuzzer target: the image reader behind `cr-tool verify`, `inspect` and
// `restart`, fed arbitrary bytes. An image is untrusted input: whatever it
// holds, decode_image() must return valid or invalid with an offset and a
// reason, never crash, hang or touch memory it does not own (the fuzzer
// build runs under ASan and UBSan).
#include <cstddef>
#include <cstdint>
#include <span>

#include "image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    cr::DecodedImage img = cr::decode_image(std::span<const uint8_t>(data, size), true);
    // An invalid image names where it went wrong, inside the image.
    if (!img.valid && img.error_offset > size)
        __builtin_trap();
    return 0;
}
