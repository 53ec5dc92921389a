// SPDX-License-Identifier: GPL-2.0
/*
 * Four children died and were not reaped: three exited with 3, 5 and 7,
 * one was killed by SIGKILL. After restart they are still zombies with the
 * same statuses, and recreating them sent the parent no new SIGCHLD.
 */
#include <sys/wait.h>

#include "workload.h"

#define NR_ZOMBIES	4

static volatile sig_atomic_t sigchld_count;

static void on_sigchld(int sig)
{
	(void)sig;
	sigchld_count++;
}

int main(void)
{
	static const int statuses[NR_ZOMBIES] = { 3, 5, 7, -SIGKILL };
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
	pid_t pids[NR_ZOMBIES];
	int count_at_ready;

	wl_init();
	sigaction(SIGCHLD, &sa, NULL);
	for (int i = 0; i < NR_ZOMBIES; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return 1;
		if (pids[i] == 0) {
			if (statuses[i] < 0)
				raise(-statuses[i]);
			_exit(statuses[i]);
		}
	}
	/* Wait until each is a zombie, without reaping it. */
	for (int i = 0; i < NR_ZOMBIES; i++) {
		siginfo_t info;

		while (waitid(P_PID, pids[i], &info, WEXITED | WNOWAIT) < 0 && errno == EINTR)
			;
	}
	count_at_ready = sigchld_count;
	wl_ready();
	while (!wl_verify_requested)
		pause();

	WL_CHECK(sigchld_count == count_at_ready, "%d SIGCHLD arrived after READY",
		 sigchld_count - count_at_ready);
	for (int i = 0; i < NR_ZOMBIES; i++) {
		int status = 0;
		pid_t got = waitpid(pids[i], &status, WNOHANG);

		if (wl_corrupt() && i == 0)
			status = 0;
		if (got != pids[i]) {
			wl_fail("child %d: waitpid returned %d (%s): not a zombie", pids[i], got,
				got < 0 ? strerror(errno) : "still running");
		} else if (statuses[i] < 0) {
			WL_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == -statuses[i],
				 "child %d: status %#x, expected killed by signal %d", pids[i], status,
				 -statuses[i]);
		} else {
			WL_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == statuses[i],
				 "child %d: status %#x, expected exit %d", pids[i], status, statuses[i]);
		}
	}
	return wl_finish();
}
