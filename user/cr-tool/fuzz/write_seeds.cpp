// Writes the fuzzer's seed corpus: well-formed images from the unit tests'
// builder, so that mutations start from something every decoder accepts.
#include <cstdio>
#include <fstream>
#include <string>

#include "../tests/image_builder.hpp"

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    auto img = cr::test::valid_image();
    std::ofstream out(std::string(argv[1]) + "/valid.cr", std::ios::binary);
    out.write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
    return out ? 0 : 1;
}
