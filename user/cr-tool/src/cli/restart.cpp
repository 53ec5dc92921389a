// cr-tool restart [--detach] [--pidns] [--no-verify] [--allow-moved-files] [--allow-changed-files]
//                 [--stdin F] [--stdout F] [--stderr F] FILE
//
// Reads the image's tree itself and recreates it: every process with its
// original pid (clone3 set_tid), parent, session and process group, each
// creating its own children and then its threads (tree_plan.hpp). Then every task calls
// restart(2) on the one open image file and the kernel restores them in
// turn. The image's external fds (a terminal, a pipe to outside) come from
// the fds 0, 1 and 2 every task inherits from cr-tool, or from the files
// --stdin, --stdout and --stderr name.
//
// Whole tree or nothing: every task reports a failure's errno on a status
// pipe; restart(2) replaces each task's fd table only once the whole tree
// is restored, so EOF on that pipe with no errno means success. Until then
// each task dies with its parent (PR_SET_PDEATHSIG), so killing the root
// takes down every task created so far.
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "image.hpp"
#include "kernel_log.hpp"
#include "syscalls.hpp"
#include "tree_plan.hpp"

namespace cr::cli {
namespace {

struct RestartOptions {
    std::string image;
    bool detach = false;
    bool pidns = false;
    bool no_verify = false;
    unsigned long flags = 0;    // restart(2) flags
    std::string stdio[3];   // files for fds 0, 1, 2 of the tree; empty: cr-tool's own
};

[[noreturn]] void report_and_exit(int status_fd, int err);

// Open the --stdin/--stdout/--stderr files before any task exists, so a bad
// path is an error that names it, not a restart that fails halfway.
std::vector<Fd> open_stdio(const RestartOptions& opt)
{
    static const char* const names[3] = {"--stdin", "--stdout", "--stderr"};
    std::vector<Fd> fds(3);
    for (int i = 0; i < 3; i++) {
        if (opt.stdio[i].empty())
            continue;
        int flags = i == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_APPEND;
        fds[i] = Fd(::open(opt.stdio[i].c_str(), flags | O_CLOEXEC, 0644));
        if (!fds[i])
            throw_errno("{} {}: cannot open it", names[i], opt.stdio[i]);
    }
    return fds;
}

// In the first task cr-tool creates: put the chosen files on fds 0-2, where
// restart(2) takes the image's external fds from (every task inherits them).
void redirect_stdio(const std::vector<Fd>& fds, int status_fd)
{
    for (int i = 0; i < 3; i++)
        if (fds[i] && ::dup2(fds[i].get(), i) < 0)
            report_and_exit(status_fd, errno);
}

// What every created task shares: the plan, the image, the kernel log, the status pipe.
struct TreeBuild {
    const std::vector<TaskPlan>& plan;
    unsigned long flags;
    int image_fd;
    int log_fd;
    int status_fd;
};

[[noreturn]] void report_and_exit(int status_fd, int err)
{
    [[maybe_unused]] ssize_t n = ::write(status_fd, &err, sizeof(err));
    ::_exit(127);
}

// In a new task: take the session and group the plan says, create the
// children (each its whole subtree before the next), then restore.
[[noreturn]] void become_task(const TreeBuild& b, size_t i, int ready_fd, pid_t parent)
{
    const TaskPlan& me = b.plan[i];
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || ::getppid() != parent)
        ::_exit(127);   // our creator is already gone
    if (me.new_session && ::setsid() < 0)
        report_and_exit(b.status_fd, errno);
    if (me.join_pgid && ::setpgid(0, me.join_pgid) < 0)
        report_and_exit(b.status_fd, errno);
    for (size_t c : me.children) {
        int ready[2];
        if (::pipe2(ready, O_CLOEXEC) < 0)
            report_and_exit(b.status_fd, errno);
        pid_t self = ::getpid();
        pid_t child = clone_with_pid(b.plan[c].pid, 0);
        if (child == 0) {
            ::close(ready[0]);
            if (ready_fd >= 0)
                ::close(ready_fd);
            become_task(b, c, ready[1], self);
        }
        if (child < 0)
            report_and_exit(b.status_fd, errno);
        ::close(ready[1]);
        char byte;
        while (::read(ready[0], &byte, 1) < 0 && errno == EINTR) {
        }
        ::close(ready[0]);
    }
    // Threads last: each goes straight into restart(2) and waits there for the tree.
    for (pid_t tid : me.threads) {
        constexpr size_t stack_size = 64 * 1024;
        void* stack = ::mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (stack == MAP_FAILED ||
            clone_restoring_thread(tid, stack, stack_size, b.image_fd, b.log_fd, b.flags) < 0)
            report_and_exit(b.status_fd, errno);
    }
    if (ready_fd >= 0)
        ::close(ready_fd);
    sys_restart(0, b.image_fd, b.flags, b.log_fd);
    report_and_exit(b.status_fd, errno);
}

// Each task dies with its parent, one generation after another: wait until
// none is left running (a zombie waiting for its reaper counts as gone), so
// that "nothing was restarted" is true when cr-tool says it.
void wait_until_gone(const std::vector<TaskPlan>& plan)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (const auto& task : plan) {
        std::string stat = fmt::format("/proc/{}/stat", task.pid);
        while (std::chrono::steady_clock::now() < deadline) {
            std::ifstream in(stat);
            std::string line;
            if (!std::getline(in, line))
                break;
            auto paren = line.rfind(')');
            if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z')
                break;
            ::usleep(10000);
        }
    }
}

int exit_code_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

// The init of a new pid namespace: create the root with its pid there, then
// reap until it exits and pass its status on.
[[noreturn]] void pidns_init(const TreeBuild& b)
{
    pid_t init = ::getpid();
    if (b.plan[0].pid == 1)
        become_task(b, 0, -1, ::getppid());
    pid_t root = clone_with_pid(b.plan[0].pid, 0);
    if (root == 0)
        become_task(b, 0, -1, init);
    if (root < 0)
        report_and_exit(b.status_fd, errno);
    // The init only reaps: it must keep nothing of cr-tool open, neither the image (a
    // decompressed one is memory) nor its stdio (a caller's pipe).
    ::close_range(3, ~0U, 0);
    int null_fd = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2 && null_fd >= 0; fd++)
        ::dup2(null_fd, fd);
    if (null_fd > 2)
        ::close(null_fd);
    for (;;) {
        int status;
        pid_t r = ::waitpid(-1, &status, 0);
        if (r == root)
            ::_exit(exit_code_of(status));
        if (r < 0 && errno == ECHILD)
            ::_exit(127);
    }
}

int run_restart(const RestartOptions& opt)
{
    auto mapped = std::make_unique<MappedImage>(opt.image);
    // Without --no-verify the whole image is checked before any task exists.
    DecodedImage img = decode_image(mapped->bytes(), false, opt.no_verify ? 2 : UINT64_MAX);
    if (!img.valid)
        throw Failure(fmt::format("{} is not a valid image (offset {}: {}); nothing was restarted",
                                  opt.image, img.error_offset, img.error));
    std::vector<TaskPlan> plan = plan_tree(img.ctx.tree);
    pid_t pid = plan[0].pid;

    // A compressed image was decompressed into memory: the kernel reads that.
    Fd image(mapped->compressed() ? ::fcntl(mapped->fd(), F_DUPFD, 0) : ::open(opt.image.c_str(), O_RDONLY));
    if (!image)
        throw_errno("cannot open {}", opt.image);
    KernelLog log("");
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) < 0)
        throw_errno("cannot create a status pipe");
    Fd status_rd(pipefd[0]), status_wr(pipefd[1]);
    TreeBuild build{plan, opt.flags, image.get(), log.fd(), status_wr.get()};
    std::vector<Fd> stdio = open_stdio(opt);

    pid_t self = ::getpid();
    pid_t child = opt.pidns ? clone_with_pid(0, CLONE_NEWPID) : clone_with_pid(pid, 0);
    if (child == 0) {
        status_rd.reset();
        redirect_stdio(stdio, status_wr.get());
        if (opt.pidns)
            pidns_init(build);
        become_task(build, 0, -1, self);
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

    // EOF without an errno: every task's fd table was replaced, restart's last step.
    int err = 0;
    ssize_t n;
    do {
        n = ::read(status_rd.get(), &err, sizeof(err));
    } while (n < 0 && errno == EINTR);
    std::string kernel = log.text();
    if (n == sizeof(err) || !kernel.empty()) {
        // Killing the root takes every task created so far with it (PR_SET_PDEATHSIG).
        ::kill(child, SIGKILL);
        int status;
        ::waitpid(child, &status, 0);
        if (!opt.pidns)
            wait_until_gone(plan);
        if (n == sizeof(err)) {
            if (err == EEXIST)
                throw Error(err, fmt::format("a pid of the tree in {} is in use; nothing was restarted",
                                             opt.image),
                            "restart with --pidns to restore it in a new pid namespace");
            if (err == ESTALE)
                throw Error(err, fmt::format("restart from {} failed{}; nothing was restarted", opt.image,
                                             log.explain()),
                            "if the files were copied here, --allow-moved-files; to accept changed ones, "
                            "--allow-changed-files");
            throw Error(err, fmt::format("restart from {} failed{}; nothing was restarted", opt.image,
                                         log.explain()));
        }
        throw Failure(fmt::format("restart from {} failed: the restored tree was killed (kernel: {})",
                                  opt.image, kernel));
    }
    // The tree runs: a decompressed image held in memory is not needed while we wait for it.
    image.reset();
    mapped.reset();
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
    sub->add_flag_callback("--allow-moved-files", [opt] { opt->flags |= RESTART_FILES_MOVED; },
                           "accept regular files that are other inodes with the checkpoint's size and mtime "
                           "(copied here, e.g. by rsync -a to another node)");
    sub->add_flag_callback("--allow-changed-files", [opt] { opt->flags |= RESTART_FILES_CHANGED; },
                           "accept regular files whose size or mtime changed since the checkpoint");
    sub->add_option("--stdin", opt->stdio[0],
                    "file the tree's external stdin (a terminal or pipe at checkpoint) comes from");
    sub->add_option("--stdout", opt->stdio[1], "file (appended to) for the tree's external stdout");
    sub->add_option("--stderr", opt->stdio[2], "file (appended to) for the tree's external stderr");
    sub->callback([opt, &status] { status = run_restart(*opt); });
}

} // namespace cr::cli
