// cr-tool verify FILE: structure, references and checksum, without a kernel.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "image.hpp"

namespace cr::cli {
namespace {

int run_verify(const std::string& path)
{
    MappedImage mapped(path);
    DecodedImage img = decode_image(mapped.bytes(), false);
    if (!img.valid) {
        fmt::print(stderr, "{}: invalid image: offset {}: {}\n", path, img.error_offset, img.error);
        return 1;
    }
    fmt::print("{}: valid image, {} records, {} tasks, {} pages\n", path, img.ctx.records + 1,
               img.ctx.tasks, img.ctx.pages);
    return 0;
}

} // namespace

void setup_verify(CLI::App& app, int& status)
{
    auto path = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("verify", "Check an image's structure and checksum");
    sub->add_option("image", *path, "image file")->required();
    sub->callback([path, &status] { status = run_verify(*path); });
}

} // namespace cr::cli
