// cr-tool restart [--detach] [--pidns] FILE
//
// Reads the image's tree itself, creates the task with its original pid
// (clone3 set_tid) and lets that task restore itself with restart(2). The
// image's external fds (a terminal, a pipe to outside) come from the
// restoring task's fds 0, 1 and 2, which it inherits from cr-tool.
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "image.hpp"
#include "kernel_log.hpp"
#include "syscalls.hpp"

namespace cr::cli {
namespace {

struct RestartOptions {
    std::string image;
    bool detach = false;
    bool pidns = false;
    bool no_verify = false;
};

// In the new task: become the checkpointed process, or report why not.
[[noreturn]] void restore_self(int image_fd, int log_fd, int status_fd)
{
    sys_restart(0, image_fd, 0, log_fd);
    int err = errno;
    [[maybe_unused]] ssize_t n = ::write(status_fd, &err, sizeof(err));
    ::_exit(127);
}

int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

// The init of a new pid namespace: create the task with its pid there, then
// reap until it exits and pass its status on.
[[noreturn]] void pidns_init(pid_t pid, int image_fd, int log_fd, int status_fd)
{
    if (pid == 1)
        restore_self(image_fd, log_fd, status_fd);
    pid_t task = clone_with_pid(pid, 0);
    if (task == 0)
        restore_self(image_fd, log_fd, status_fd);
    if (task < 0) {
        int err = errno;
        [[maybe_unused]] ssize_t n = ::write(status_fd, &err, sizeof(err));
        ::_exit(127);
    }
    ::close(status_fd);
    ::close(image_fd);
    ::close(log_fd);
    // The init only reaps: it must not keep cr-tool's stdio (a caller's pipe) open.
    int null_fd = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2 && null_fd >= 0; fd++)
        ::dup2(null_fd, fd);
    if (null_fd > 2)
        ::close(null_fd);
    for (;;) {
        int status;
        pid_t r = ::waitpid(-1, &status, 0);
        if (r == task)
            ::_exit(exit_code_of(status));
        if (r < 0 && errno == ECHILD)
            ::_exit(127);
    }
}

int run_restart(const RestartOptions& opt)
{
    MappedImage mapped(opt.image);
    // Without --no-verify the whole image is checked before any task exists.
    DecodedImage img = decode_image(mapped.bytes(), false, opt.no_verify ? 2 : UINT64_MAX);
    if (!img.valid)
        throw Failure(fmt::format("{} is not a valid image (offset {}: {}); nothing was restarted",
                                  opt.image, img.error_offset, img.error));
    if (img.ctx.tree.size() != 1)
        throw Failure(fmt::format("{} holds {} tasks; restarting more than one task is not supported yet",
                                  opt.image, img.ctx.tree.size()));
    pid_t pid = img.ctx.tree[0].pid;

    Fd image(::open(opt.image.c_str(), O_RDONLY));
    if (!image)
        throw_errno("cannot open {}", opt.image);
    KernelLog log("");
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) < 0)
        throw_errno("cannot create a status pipe");
    Fd status_rd(pipefd[0]), status_wr(pipefd[1]);

    pid_t child = opt.pidns ? clone_with_pid(0, CLONE_NEWPID) : clone_with_pid(pid, 0);
    if (child == 0) {
        status_rd.reset();
        if (opt.pidns)
            pidns_init(pid, image.get(), log.fd(), status_wr.get());
        restore_self(image.get(), log.fd(), status_wr.get());
    }
    if (child < 0) {
        int err = errno;
        if (err == EEXIST)
            throw Error(err, fmt::format("pid {} is in use", pid),
                        "restart with --pidns to restore it in a new pid namespace");
        if (err == EPERM)
            throw Error(err, fmt::format("cannot create a process with pid {}", pid),
                        "choosing a pid needs root or CAP_CHECKPOINT_RESTORE");
        throw Error(err, fmt::format("cannot create a process with pid {}", pid));
    }
    status_wr.reset();

    // EOF without an errno: the kernel replaced the task's fds, its last step.
    int err = 0;
    ssize_t n;
    do {
        n = ::read(status_rd.get(), &err, sizeof(err));
    } while (n < 0 && errno == EINTR);
    std::string kernel = log.text();
    if (n == sizeof(err) || !kernel.empty()) {
        int status;
        ::waitpid(child, &status, 0);
        if (n == sizeof(err))
            throw Error(err, fmt::format("restart from {} failed{}", opt.image, log.explain()));
        throw Failure(fmt::format("restart from {} failed: the restored process was killed (kernel: {})",
                                  opt.image, kernel));
    }
    if (opt.detach) {
        fmt::print("{}\n", child);
        return 0;
    }
    int status;
    while (::waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            throw_errno("cannot wait for the restored process {}", child);
    if (WIFSIGNALED(status))
        fmt::print(stderr, "cr-tool: restored process {} was killed by signal {}\n", child,
                   WTERMSIG(status));
    return exit_code_of(status);
}

} // namespace

void setup_restart(CLI::App& app, int& status)
{
    auto opt = std::make_shared<RestartOptions>();
    auto* sub = app.add_subcommand("restart", "Bring a checkpointed process back");
    sub->add_option("image", opt->image, "image file")->required();
    sub->add_flag("--detach", opt->detach, "print the restored pid and return once it runs");
    sub->add_flag("--pidns", opt->pidns, "restore in a new pid namespace (the pid may be in use here)");
    sub->add_flag("--no-verify", opt->no_verify,
                  "hand the image to the kernel without checking it first (the kernel checks it itself)");
    sub->callback([opt, &status] { status = run_restart(*opt); });
}

} // namespace cr::cli
