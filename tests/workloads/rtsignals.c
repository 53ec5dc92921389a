// SPDX-License-Identifier: GPL-2.0
/*
 * Five instances of one real-time signal stay queued, in order, each
 * with its value: SIGRTMIN is blocked and queued with sigqueue() five
 * times, values 1 to 5, before READY.
 *
 * After restart all five are pending: sigtimedwait() takes the first
 * three (values 1, 2, 3, SI_QUEUE, sent by this pid), then unblocking
 * delivers the other two to the handler (values 4, 5), and nothing more.
 *
 * SIGCHLD is blocked too, and a child exits with status 7 before READY:
 * after restart SIGCHLD is still pending with the child's pid, CLD_EXITED
 * and status 7, and the child is still a zombie that waitpid() reaps.
 *
 * CR_CORRUPT=1 takes the first one away before verifying.
 */
#include <sys/wait.h>

#include "workload.h"

static volatile int handled, handled_values[8];

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	if (handled < 8)
		handled_values[handled] = si->si_value.sival_int;
	handled++;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO };
	struct timespec zero = { 0, 0 };
	sigset_t block, chld, pending;
	siginfo_t si;
	pid_t child;
	int status;

	wl_init();
	sigaction(SIGRTMIN, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	child = fork();
	if (child == 0)
		_exit(7);
	for (int i = 0; i < 500; i++) {
		sigpending(&pending);
		if (sigismember(&pending, SIGCHLD))
			break;
		usleep(10000);
	}
	if (child < 0 || !sigismember(&pending, SIGCHLD))
		return printf("FAIL: setup: no SIGCHLD pending from child %d\n", child), 1;
	for (int v = 1; v <= 5; v++)
		if (sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = v }))
			return printf("FAIL: setup: sigqueue: %s\n", strerror(errno)), 1;
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		sigtimedwait(&block, &si, &zero);
	sigpending(&pending);
	WL_CHECK(sigismember(&pending, SIGRTMIN), "SIGRTMIN is not pending");
	for (int v = 1; v <= 3; v++) {
		memset(&si, 0, sizeof(si));
		if (sigtimedwait(&block, &si, &zero) != SIGRTMIN) {
			wl_fail("sigtimedwait %d: no SIGRTMIN (%s)", v, strerror(errno));
			break;
		}
		WL_CHECK(si.si_value.sival_int == v && si.si_code == SI_QUEUE && si.si_pid == getpid(),
			 "SIGRTMIN %d came with value %d, code %d, pid %d; expected %d, %d, %d", v,
			 si.si_value.sival_int, si.si_code, si.si_pid, v, SI_QUEUE, getpid());
	}
	WL_CHECK(handled == 0, "the handler ran while SIGRTMIN was blocked");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	WL_CHECK(handled == 2 && handled_values[0] == 4 && handled_values[1] == 5,
		 "after unblocking the handler got %d signals, values %d %d; expected 2, values 4 5",
		 handled, handled_values[0], handled_values[1]);
	sigpending(&pending);
	WL_CHECK(!sigismember(&pending, SIGRTMIN), "SIGRTMIN is still pending after all five");

	memset(&si, 0, sizeof(si));
	WL_CHECK(sigtimedwait(&chld, &si, &zero) == SIGCHLD, "SIGCHLD is no longer pending (%s)",
		 strerror(errno));
	WL_CHECK(si.si_pid == child && si.si_code == CLD_EXITED && si.si_status == 7,
		 "SIGCHLD came with pid %d, code %d, status %d; expected %d, %d, 7", si.si_pid,
		 si.si_code, si.si_status, child, CLD_EXITED);
	WL_CHECK(waitpid(child, &status, WNOHANG) == child && WIFEXITED(status) &&
		 WEXITSTATUS(status) == 7, "the exited child %d is not a zombie with status 7", child);
	return wl_finish();
}
