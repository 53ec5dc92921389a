// SPDX-License-Identifier: GPL-2.0
/*
 * A child created with clone(CLONE_VM | CLONE_FILES): it shares its
 * parent's address space and fd table without being a thread. The child
 * prints "child PID" and waits; checkpointing the child alone must fail,
 * since its parent, outside that tree, would lose the sharing.
 */
#include <sched.h>
#include <sys/wait.h>

#include "workload.h"

static char child_stack[64 * 1024] __attribute__((aligned(16)));

static int child_main(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

int main(void)
{
	pid_t child;

	wl_init();
	child = clone(child_main, child_stack + sizeof(child_stack),
		      CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
	if (child < 0)
		return 1;
	printf("child %d\n", child);
	wl_ready();
	while (!wl_verify_requested)
		pause();
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	if (wl_corrupt())
		wl_fail("corrupted on request");
	return wl_finish();
}
