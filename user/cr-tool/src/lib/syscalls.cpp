#include "syscalls.hpp"

#include <linux/checkpoint.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace cr {

long sys_checkpoint(pid_t pid, int fd, unsigned long flags, int logfd)
{
    return ::syscall(__NR_checkpoint, pid, fd, flags, logfd);
}

long sys_restart(pid_t pid, int fd, unsigned long flags, int logfd)
{
    return ::syscall(__NR_restart, pid, fd, flags, logfd);
}

// The new thread starts on an empty stack at the instruction after the
// clone3 syscall, so it cannot return through C++ code: it runs these few
// instructions, which use registers only. rdx, r8 and r9 carry the image
// fd, the flags and the log fd across the syscall (it preserves every
// register but rax, rcx and r11).
static_assert(__NR_clone3 == 435 && __NR_restart == 464 && __NR_exit == 60,
              "the x86_64 syscall numbers below");
extern "C" long cr_clone3_then_restart(struct clone_args* args, size_t size, long image_fd, long log_fd,
                                       unsigned long flags);
asm(R"(
	.text
	.globl	cr_clone3_then_restart
	.type	cr_clone3_then_restart, @function
cr_clone3_then_restart:
	endbr64
	mov	%rcx, %r9
	mov	$435, %eax
	syscall
	test	%rax, %rax
	jz	1f
	ret
1:	xor	%edi, %edi
	mov	%rdx, %rsi
	mov	%r8, %rdx
	mov	%r9, %r10
	mov	$464, %eax
	syscall
	mov	%rax, %rdi
	neg	%rdi
	mov	$60, %eax
	syscall
	ud2
	.size	cr_clone3_then_restart, .-cr_clone3_then_restart
)");

pid_t clone_restoring_thread(pid_t tid, void* stack, size_t stack_size, int image_fd, int log_fd,
                             unsigned long flags)
{
    struct clone_args args = {};
    // No CLONE_FILES or CLONE_FS: restart(2) rebuilds the thread's sharing from the image.
    args.flags = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
    args.stack = reinterpret_cast<uint64_t>(stack);
    args.stack_size = stack_size;
    args.set_tid = reinterpret_cast<uint64_t>(&tid);
    args.set_tid_size = 1;
    long ret = cr_clone3_then_restart(&args, sizeof(args), image_fd, log_fd, flags);
    if (ret < 0) {
        errno = static_cast<int>(-ret);
        return -1;
    }
    return static_cast<pid_t>(ret);
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
