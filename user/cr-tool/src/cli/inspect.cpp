// cr-tool inspect [--json] FILE
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"
#include "image.hpp"

namespace cr::cli {
namespace {

struct InspectOptions {
    std::string image;
    bool json = false;
};

// One line per record: offset, type, then its fields in order.
void print_record(const nlohmann::json& rec)
{
    std::string fields;
    for (auto it = rec.begin(); it != rec.end(); ++it) {
        if (it.key() == "type" || it.key() == "offset" || it.key() == "len")
            continue;
        if (it.key() == "tasks" || it.key() == "fds") {
            for (const auto& e : it.value())
                fields += fmt::format("\n{:>24}{}", "", e.dump());
            continue;
        }
        fields += fmt::format(" {}={}", it.key(), it.value().is_string() ? it.value().get<std::string>()
                                                                          : it.value().dump());
    }
    fmt::print("{:>12} {:<14}{}\n", rec["offset"].get<uint64_t>(), rec["type"].get<std::string>(), fields);
}

int run_inspect(const InspectOptions& opt)
{
    MappedImage mapped(opt.image);
    DecodedImage img = decode_image(mapped.bytes(), true);
    if (opt.json) {
        nlohmann::json out = {
            {"file", opt.image},
            {"size", mapped.bytes().size()},
            {"compressed", mapped.compressed()},
            {"file_size", mapped.file_size()},
            {"header", img.records.empty() ? nlohmann::json() : img.records[0]},
            {"records", img.records},
            {"trailer", img.trailer},
            {"tasks", img.ctx.tasks},
            {"pages", img.ctx.pages},
            {"valid", img.valid},
            {"error", img.valid ? nlohmann::json() : nlohmann::json(img.error)},
            {"error_offset", img.valid ? nlohmann::json() : nlohmann::json(img.error_offset)},
        };
        fmt::print("{}\n", out.dump(2));
    } else {
        for (const auto& rec : img.records) {
            // Pages are summarised per VMA, not listed.
            if (rec["type"] == "PAGES")
                continue;
            print_record(rec);
        }
        if (img.valid)
            print_record(img.trailer);
        fmt::print("{}: {} bytes, {} records, {} tasks, {} pages{}\n", opt.image, mapped.bytes().size(),
                   img.ctx.records + (img.valid ? 1 : 0), img.ctx.tasks, img.ctx.pages,
                   mapped.compressed() ? fmt::format(" (zstd, {} bytes in the file)", mapped.file_size()) : "");
    }
    if (!img.valid) {
        fmt::print(stderr, "cr-tool: {}: invalid image: offset {}: {}\n", opt.image, img.error_offset,
                   img.error);
        return 1;
    }
    return 0;
}

} // namespace

void setup_inspect(CLI::App& app, int& status)
{
    auto opt = std::make_shared<InspectOptions>();
    auto* sub = app.add_subcommand("inspect", "Decode every record of an image");
    sub->add_option("image", opt->image, "image file")->required();
    sub->add_flag("--json", opt->json, "print JSON");
    sub->callback([opt, &status] { status = run_inspect(*opt); });
}

} // namespace cr::cli
