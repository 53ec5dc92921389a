// The linux-cr syscalls and clone3 with a chosen pid.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace cr {

long sys_checkpoint(pid_t pid, int fd, unsigned long flags, int logfd);
long sys_restart(pid_t pid, int fd, unsigned long flags, int logfd);

// clone3() a child with pid @tid in the caller's innermost pid namespace
// (0: any pid), plus @flags (e.g. CLONE_NEWPID). Returns as fork() does.
pid_t clone_with_pid(pid_t tid, uint64_t flags);

// Create a thread of the caller with thread id @tid whose only act is
// restart(0, image_fd, flags, log_fd): restart either replaces its registers
// (and the caller's address space) or fails, and then the thread exits.
// It runs on @stack and shares nothing but the mm and signal handlers, as
// restart(2) expects. Returns the tid or -1 with errno.
pid_t clone_restoring_thread(pid_t tid, void* stack, size_t stack_size, int image_fd, int log_fd,
                             unsigned long flags);

} // namespace cr
