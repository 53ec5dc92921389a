// SPDX-License-Identifier: GPL-2.0
/*
 * Signal state survives: a handler with its flags and mask, an ignored
 * signal, the blocked mask, a pending standard signal and two queued
 * real-time signals with their values, delivered once each, in order,
 * when unblocked after restart.
 */
#include "workload.h"

static volatile int usr2_count, rt_count, rt_values[4];

static void on_usr2(int sig, siginfo_t *info, void *uc)
{
	(void)sig; (void)info; (void)uc;
	usr2_count++;
}

static void on_rt(int sig, siginfo_t *info, void *uc)
{
	(void)sig; (void)uc;
	if (rt_count < 4)
		rt_values[rt_count] = info->si_value.sival_int;
	rt_count++;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr2, .sa_flags = SA_SIGINFO | SA_RESTART }, got;
	sigset_t block, pending;

	wl_init();
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGRTMIN, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR2);
	sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = 7 });
	sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = 8 });
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		signal(SIGPIPE, SIG_DFL);
	sigaction(SIGUSR2, NULL, &got);
	WL_CHECK(got.sa_sigaction == on_usr2, "the SIGUSR2 handler changed");
	WL_CHECK((got.sa_flags & (SA_SIGINFO | SA_RESTART)) == (SA_SIGINFO | SA_RESTART),
		 "the SIGUSR2 flags are %#x", got.sa_flags);
	WL_CHECK(sigismember(&got.sa_mask, SIGHUP), "the SIGUSR2 handler mask lost SIGHUP");
	sigaction(SIGPIPE, NULL, &got);
	WL_CHECK(got.sa_handler == SIG_IGN, "SIGPIPE is no longer ignored");
	sigprocmask(SIG_BLOCK, NULL, &block);
	WL_CHECK(sigismember(&block, SIGUSR2) && sigismember(&block, SIGRTMIN), "the blocked mask changed");
	sigpending(&pending);
	WL_CHECK(sigismember(&pending, SIGUSR2) && sigismember(&pending, SIGRTMIN), "pending signals lost");
	WL_CHECK(usr2_count == 0 && rt_count == 0, "a blocked signal was delivered");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	WL_CHECK(usr2_count == 1, "SIGUSR2 delivered %d times", usr2_count);
	WL_CHECK(rt_count == 2 && rt_values[0] == 7 && rt_values[1] == 8,
		 "SIGRTMIN delivered %d times, values %d %d", rt_count, rt_values[0], rt_values[1]);
	return wl_finish();
}
