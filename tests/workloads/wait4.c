// SPDX-License-Identifier: GPL-2.0
/*
 * A parent checkpointed while blocked in waitpid() for its live child is
 * still waiting after restart (SA_RESTART restarts the call) and reaps the
 * child's real exit status: SIGUSR1 to the parent is passed to the child,
 * which exits with 42.
 */
#include <sys/wait.h>

#include "workload.h"

static pid_t child;

static void pass_to_child(int sig)
{
	(void)sig;
	kill(child, SIGUSR1);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = pass_to_child, .sa_flags = SA_RESTART };
	int status = 0;
	pid_t got;

	setvbuf(stdout, NULL, _IOLBF, 0);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		wl_init();
		while (!wl_verify_requested)
			pause();
		_exit(42);
	}
	sigaction(SIGUSR1, &sa, NULL);
	wl_ready();
	got = waitpid(child, &status, 0);
	if (wl_corrupt())
		status = 0;
	WL_CHECK(got == child, "waitpid returned %d (%s)", got, got < 0 ? strerror(errno) : "");
	WL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42, "child status %#x, expected exit 42",
		 status);
	return wl_finish();
}
