// The linux-cr syscalls and clone3 with a chosen pid.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace cr {

long sys_checkpoint(pid_t pid, int fd, unsigned long flags, int logfd);
long sys_restart(pid_t pid, int fd, unsigned long flags, int logfd);

// clone3() a child with pid @tid in the caller's innermost pid namespace
// (0: any pid), plus @flags (e.g. CLONE_NEWPID). Returns as fork() does.
pid_t clone_with_pid(pid_t tid, uint64_t flags);

} // namespace cr
