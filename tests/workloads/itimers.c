// SPDX-License-Identifier: GPL-2.0
/*
 * The three interval timers of setitimer(2) keep running: ITIMER_REAL
 * every 200 ms of wall time, ITIMER_VIRTUAL and ITIMER_PROF every 100 ms
 * of CPU time, each counted by its signal's handler. Before READY the
 * workload spins until the CPU timers have fired once; then it sleeps,
 * so it costs little CPU while it waits.
 *
 * After restart getitimer() shows the same intervals with a remaining
 * time in (0, interval]; SIGALRM arrives at least 3 more times (within
 * seconds); spinning again, SIGVTALRM and SIGPROF arrive again (within
 * 20 s of wall time, generous for a slow emulated CPU).
 *
 * CR_CORRUPT=1 changes ITIMER_REAL's interval to 250 ms before verifying.
 */
#include <sys/time.h>

#include "workload.h"

static volatile sig_atomic_t alrm_count, vtalrm_count, prof_count;

static void on_timer(int sig)
{
	if (sig == SIGALRM)
		alrm_count++;
	else if (sig == SIGVTALRM)
		vtalrm_count++;
	else if (sig == SIGPROF)
		prof_count++;
}

/* Burn CPU until both CPU timers have fired since @vt, @prof; or @seconds pass. */
static void spin(int vt, int prof, double seconds)
{
	double deadline = wl_now() + seconds;

	while ((vtalrm_count == vt || prof_count == prof) && wl_now() < deadline)
		for (volatile int i = 0; i < 100000; i++)
			;
}

static long tv_us(const struct timeval *tv)
{
	return tv->tv_sec * 1000000L + tv->tv_usec;
}

static void check_timer(int which, const char *name, long interval_ms)
{
	long slack_us = which == ITIMER_REAL ? 0 : 10000;
	struct itimerval got;

	/*
	 * ITIMER_REAL reads 0 between an expiry and the SIGALRM's delivery,
	 * which rearms it: look again after a moment.
	 */
	for (int tries = 0; tries < 100; tries++) {
		WL_CHECK(getitimer(which, &got) == 0, "getitimer(%s): %s", name, strerror(errno));
		if (tv_us(&got.it_value) > 0)
			break;
		usleep(1000);
	}
	printf("%s: interval %ld us, remaining %ld us\n", name, tv_us(&got.it_interval),
	       tv_us(&got.it_value));
	WL_CHECK(tv_us(&got.it_interval) == interval_ms * 1000, "%s interval is %ld us, expected %ld",
		 name, tv_us(&got.it_interval), interval_ms * 1000);
	/* Arming a CPU-time timer adds a tick (10 ms at the lowest HZ): setitimer(2) does so too. */
	WL_CHECK(tv_us(&got.it_value) > 0 && tv_us(&got.it_value) <= interval_ms * 1000 + slack_us,
		 "%s remaining time is %ld us, expected in (0, %ld]", name, tv_us(&got.it_value),
		 interval_ms * 1000 + slack_us);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_timer, .sa_flags = SA_RESTART };
	struct itimerval real = { { 0, 200000 }, { 0, 200000 } };
	struct itimerval cpu = { { 0, 100000 }, { 0, 100000 } };
	int alrm, vt, prof;
	double start, deadline;

	wl_init();
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGVTALRM, &sa, NULL);
	sigaction(SIGPROF, &sa, NULL);
	if (setitimer(ITIMER_REAL, &real, NULL) || setitimer(ITIMER_VIRTUAL, &cpu, NULL) ||
	    setitimer(ITIMER_PROF, &cpu, NULL)) {
		printf("FAIL: setup: %s\n", strerror(errno));
		return 1;
	}
	spin(0, 0, WL_WAIT_MS / 1000);
	if (!vtalrm_count || !prof_count) {
		printf("FAIL: setup: the CPU timers never fired\n");
		return 1;
	}
	printf("itimers: real 200 ms, virtual 100 ms, prof 100 ms\n");
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt()) {
		real.it_interval.tv_usec = 250000;
		setitimer(ITIMER_REAL, &real, NULL);
	}
	check_timer(ITIMER_REAL, "ITIMER_REAL", 200);
	check_timer(ITIMER_VIRTUAL, "ITIMER_VIRTUAL", 100);
	check_timer(ITIMER_PROF, "ITIMER_PROF", 100);

	/* 3 periods of 200 ms: 0.6 s; allow much more on a slow machine. */
	alrm = alrm_count;
	start = wl_now();
	deadline = start + 10;
	while (alrm_count < alrm + 3 && wl_now() < deadline)
		usleep(20000);
	printf("SIGALRM: %d more in %.1f s\n", alrm_count - alrm, wl_now() - start);
	WL_CHECK(alrm_count >= alrm + 3, "SIGALRM arrived %d times in 10 s, expected at least 3",
		 alrm_count - alrm);

	vt = vtalrm_count;
	prof = prof_count;
	start = wl_now();
	spin(vt, prof, 20);
	printf("SIGVTALRM: %d more, SIGPROF: %d more in %.1f s of spinning\n", vtalrm_count - vt,
	       prof_count - prof, wl_now() - start);
	WL_CHECK(vtalrm_count > vt, "SIGVTALRM did not arrive in 20 s of spinning");
	WL_CHECK(prof_count > prof, "SIGPROF did not arrive in 20 s of spinning");
	return wl_finish();
}
