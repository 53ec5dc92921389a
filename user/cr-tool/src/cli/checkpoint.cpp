// cr-tool checkpoint --pid PID --output FILE [--kill] [--log FILE] [-v]
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#include <string>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "commands.hpp"
#include "error.hpp"
#include "image.hpp"
#include "kernel_log.hpp"
#include "syscalls.hpp"

namespace cr::cli {
namespace {

struct CheckpointOptions {
    pid_t pid = 0;
    std::string output;
    bool kill = false;
    std::string log;
    bool verbose = false;
};

int run_checkpoint(const CheckpointOptions& opt)
{
    KernelLog log(opt.log);
    AtomicFile image(opt.output);
    unsigned long flags = opt.kill ? CHECKPOINT_KILL : 0;

    if (sys_checkpoint(opt.pid, image.fd(), flags, log.fd()) < 0) {
        int err = errno;
        throw Error(err, fmt::format("checkpoint of pid {} failed{}", opt.pid, log.explain()),
                    err == ENOSYS ? "this kernel lacks the linux-cr syscalls" : "");
    }
    // The kernel wrote a whole image; read it back before it takes the final name.
    MappedImage mapped(image.temp_path());
    DecodedImage img = decode_image(mapped.bytes(), false);
    if (!img.valid)
        throw Failure(fmt::format("the kernel wrote an invalid image (offset {}: {}); nothing was saved",
                                  img.error_offset, img.error));
    image.commit();
    if (opt.verbose)
        fmt::print("{}: {} bytes, {} records, {} tasks, {} pages\n", opt.output, mapped.bytes().size(),
                   img.ctx.records + 1, img.ctx.tasks, img.ctx.pages);
    return 0;
}

} // namespace

void setup_checkpoint(CLI::App& app, int& status)
{
    auto opt = std::make_shared<CheckpointOptions>();
    auto* sub = app.add_subcommand("checkpoint", "Write an image of a running process");
    sub->add_option("--pid", opt->pid, "process to checkpoint")->required();
    sub->add_option("--output,-o", opt->output, "image file to write")->required();
    sub->add_flag("--kill", opt->kill, "kill the process once the image is complete");
    sub->add_option("--log", opt->log, "also append the kernel's explanation of a failure here");
    sub->add_flag("-v,--verbose", opt->verbose, "print what was written");
    sub->callback([opt, &status] { status = run_checkpoint(*opt); });
}

} // namespace cr::cli
