#include "syscalls.hpp"

#include <linux/checkpoint.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cr {

long sys_checkpoint(pid_t pid, int fd, unsigned long flags, int logfd)
{
    return ::syscall(__NR_checkpoint, pid, fd, flags, logfd);
}

long sys_restart(pid_t pid, int fd, unsigned long flags, int logfd)
{
    return ::syscall(__NR_restart, pid, fd, flags, logfd);
}

pid_t clone_with_pid(pid_t tid, uint64_t flags)
{
    struct clone_args args = {};
    args.flags = flags;
    args.exit_signal = SIGCHLD;
    if (tid > 0) {
        args.set_tid = reinterpret_cast<uint64_t>(&tid);
        args.set_tid_size = 1;
    }
    return static_cast<pid_t>(::syscall(SYS_clone3, &args, sizeof(args)));
}

} // namespace cr
