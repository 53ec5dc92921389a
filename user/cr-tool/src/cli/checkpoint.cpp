// cr-tool checkpoint --pid PID --output FILE|- [--kill] [--compress [--compress-level N]] [--log FILE] [-v]
//
// FILE appears whole or not at all: the kernel writes into a file with no
// name, cr-tool reads the image back and only then gives it its name. A
// checkpoint that fails, or a cr-tool killed before the end, leaves no file
// and the process running.
//
// With --kill the process is gone once the kernel has written the image,
// and the image must outlive cr-tool whatever happens to it: the kernel
// writes into a hidden temporary file next to FILE (.FILE.tmp.XXXXXX),
// kept if cr-tool cannot finish. (A nameless file would be lost with a
// cr-tool killed in the instant between the kernel killing the process and
// cr-tool naming the file.) A cr-tool killed during the dump leaves that
// temporary file incomplete, which no reader takes for an image, and the
// process running.
//
// "-" streams the image to standard output (a pipe, a socket) without
// reading it back.
//
// --compress makes the kernel write into a pipe that cr-tool drains
// through zstd into FILE (or standard output); the stream's checksum is
// checked on the way instead of reading the file back. restart, inspect
// and verify recognise a compressed image by its zstd magic. Not with
// --kill: the kernel kills the tree once the trailer is in the pipe, before
// cr-tool has the image safe.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/checkpoint.h>

#include <string>
#include <thread>

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "compress.hpp"
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
    bool compress = false;
    int compress_level = 3;
};

[[noreturn]] void checkpoint_failed(const CheckpointOptions& opt, const KernelLog& log, int err)
{
    if (err == ENOSYS)
        throw Error(err, fmt::format("checkpoint of pid {} failed", opt.pid),
                    "this kernel lacks the linux-cr syscalls");
    // A failed dump leaves the tree running (checkpoint(2)), --kill or not.
    std::string what = err == EPIPE ? ": the reader of the image went away" : "";
    throw Error(err, fmt::format("checkpoint of pid {} failed{}{}", opt.pid, what, log.explain()),
                "the process was left running");
}

// The kernel writes into a pipe from a second thread; this one compresses what comes out of it.
StreamResult checkpoint_compressed(const CheckpointOptions& opt, const KernelLog& log, unsigned long flags,
                                   int out)
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0)
        throw_errno("cannot create a pipe for the kernel's stream");
    Fd rd(p[0]), wr(p[1]);
    ::fcntl(wr.get(), F_SETPIPE_SZ, 1 << 20);     // fewer, larger reads; the default works too
    // A reader that goes away is EPIPE from the kernel's write, not SIGPIPE for us.
    ::signal(SIGPIPE, SIG_IGN);
    long rc = 0;
    int err = 0;
    std::thread kernel([&] {
        rc = sys_checkpoint(opt.pid, wr.get(), flags, log.fd());
        err = errno;
        wr.reset();     // end of file for the reader
    });
    bool tty = ::isatty(STDERR_FILENO);
    auto progress = [&](uint64_t bytes) {
        fmt::print(stderr, "\rcr-tool: pid {}: {} MiB of image so far", opt.pid, bytes >> 20);
    };
    StreamResult res;
    try {
        res = compress_stream(rd.get(), out, opt.compress_level, std::thread::hardware_concurrency(),
                              tty ? std::function<void(uint64_t)>(progress) : nullptr);
    } catch (...) {
        rd.reset();     // the kernel's next write fails: the dump ends, the tree runs on
        kernel.join();
        throw;
    }
    kernel.join();
    if (tty && res.bytes_in >= (1u << 20))
        fmt::print(stderr, "\n");
    if (rc < 0)
        checkpoint_failed(opt, log, err);
    return res;
}

int checkpoint_to_stdout(const CheckpointOptions& opt, const KernelLog& log, unsigned long flags)
{
    if (::isatty(STDOUT_FILENO))
        throw Failure("--output -: standard output is a terminal; send the image to a pipe or a file");
    if (opt.compress) {
        StreamResult res = checkpoint_compressed(opt, log, flags, STDOUT_FILENO);
        if (!res.trailer_ok)
            throw Failure("the kernel wrote an invalid image (its checksum does not match); the stream sent is "
                          "not usable");
        return 0;
    }
    // A reader that goes away is EPIPE from the kernel's write, not SIGPIPE for us.
    ::signal(SIGPIPE, SIG_IGN);
    if (sys_checkpoint(opt.pid, STDOUT_FILENO, flags, log.fd()) < 0)
        checkpoint_failed(opt, log, errno);
    if (opt.verbose)
        fmt::print(stderr, "pid {}: image written to standard output\n", opt.pid);
    return 0;
}

// The kernel has written the image into @image: check it, then give it its final name.
// @invalid is empty for a good image, else what is wrong with it.
void keep_image(const CheckpointOptions& opt, AtomicFile& image, const std::string& invalid)
{
    std::string kept = opt.kill ? fmt::format("; the process was killed, the image is kept in {}",
                                              image.temp_path().string())
                                : "; nothing was saved";
    if (!invalid.empty())
        throw Failure(fmt::format("the kernel wrote an invalid image ({}){}", invalid, kept));
    try {
        image.commit();
    } catch (const Error& e) {
        if (!opt.kill)
            throw;
        throw Failure(e.what() + kept);
    }
}

int run_checkpoint(const CheckpointOptions& opt)
{
    // The kernel kills the tree once it has written the trailer into the pipe, while the image's
    // end may still be in the pipe and in zstd's buffers: a failure then would lose both.
    if (opt.kill && opt.compress)
        throw Failure("--kill with --compress could lose the process and its image both; checkpoint with "
                      "--compress, then kill the process, or use --kill without --compress");
    KernelLog log(opt.log);
    unsigned long flags = opt.kill ? CHECKPOINT_KILL : 0;
    if (opt.output == "-")
        return checkpoint_to_stdout(opt, log, flags);
    AtomicFile image(opt.output, opt.kill ? AtomicFile::Temp::named : AtomicFile::Temp::nameless);

    StreamResult streamed;
    if (opt.compress)
        streamed = checkpoint_compressed(opt, log, flags, image.fd());
    else if (sys_checkpoint(opt.pid, image.fd(), flags, log.fd()) < 0)
        checkpoint_failed(opt, log, errno);
    if (opt.kill) {
        // The tree is gone: this image is all that is left of it. Keep it whatever fails below.
        image.link_temp();
        image.keep_on_failure();
    }
    if (opt.compress) {
        // Its checksum was checked on the way through; reading it back would mean decompressing it.
        keep_image(opt, image, streamed.trailer_ok ? "" : "its checksum does not match");
        if (opt.verbose)
            fmt::print("{}: {} bytes of image, {} compressed ({:.1f}%)\n", opt.output, streamed.bytes_in,
                       streamed.bytes_out,
                       streamed.bytes_in ? 100.0 * double(streamed.bytes_out) / double(streamed.bytes_in) : 0.0);
        return 0;
    }
    // The kernel wrote a whole image; read it back before it takes the final name.
    MappedImage mapped(image.read_path());
    DecodedImage img = decode_image(mapped.bytes(), false);
    keep_image(opt, image, img.valid ? "" : fmt::format("offset {}: {}", img.error_offset, img.error));
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
    sub->add_option("--output,-o", opt->output, "image file to write; - for standard output (a pipe)")->required();
    sub->add_flag("--kill", opt->kill, "kill the process once the image is complete");
    sub->add_option("--log", opt->log, "also append the kernel's explanation of a failure here");
    sub->add_flag("-v,--verbose", opt->verbose, "print what was written");
    sub->add_flag("--compress", opt->compress, "compress the image with zstd on its way to the file");
    sub->add_option("--compress-level", opt->compress_level, "zstd level, 1 (fastest) to 19")
        ->check(CLI::Range(1, 19))
        ->capture_default_str();
    sub->callback([opt, &status] { status = run_checkpoint(*opt); });
}

} // namespace cr::cli
