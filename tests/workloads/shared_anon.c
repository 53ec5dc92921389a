// SPDX-License-Identifier: GPL-2.0
/*
 * A parent and its child share an anonymous MAP_SHARED region, the way
 * forked workers share a buffer. Checkpoint must refuse this (restart
 * would give each its own copy) and leave both running: SIGUSR1 then
 * checks the child still sees the parent's writes.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "workload.h"

int main(void)
{
	volatile int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t child;
	int status;

	if (shared == MAP_FAILED)
		return 1;
	wl_init();
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		while (!wl_verify_requested)
			pause();
		_exit(shared[0] == 1234 ? 0 : 1);
	}
	shared[0] = 1234;
	wl_ready();
	while (!wl_verify_requested)
		pause();
	kill(child, SIGUSR1);
	if (wl_corrupt())
		shared[0] = 0;
	WL_CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the child no longer sees the parent's writes (status %#x)", status);
	return wl_finish();
}
