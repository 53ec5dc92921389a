// SPDX-License-Identifier: GPL-2.0
/*
 * POSIX timers keep their ids, settings and signals. P is CLOCK_MONOTONIC
 * every 150 ms, SIGEV_SIGNAL SIGRTMIN+1 with value 42; O is SIGEV_NONE, a
 * 60 s one-shot. Timers are created and deleted around them first so
 * their ids are neither 0 nor consecutive.
 *
 * After restart the same timer_t values still work (the ids are kept):
 * P has its 150 ms interval and a remaining time in (0, 150 ms]; O has no
 * interval and a remaining time in (0, 60 s]. P's signal keeps arriving
 * (at least 3 more times, within seconds), every time with value 42,
 * SI_TIMER and P's id. "timer ids P O Q" is printed.
 *
 * Q is CLOCK_BOOTTIME every 50 ms, SIGRTMIN+2 with value 7, which is
 * blocked: its signal is queued and Q waits for its delivery to rearm.
 * After restart the signal is still pending; unblocked, it arrives, and
 * its delivery rearms Q, which goes on firing (at least 3 times more).
 *
 * CR_CORRUPT=1 changes P's interval to 300 ms before verifying.
 */
#include <stdint.h>

#include "workload.h"

#define MS	1000000L

static volatile sig_atomic_t count, bad, bad_value, bad_code, bad_id;
static volatile sig_atomic_t q_count, q_bad;
static int p_id, q_id;

static void on_q(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	q_count++;
	if (si->si_value.sival_int != 7 || si->si_code != SI_TIMER || si->si_timerid != q_id ||
	    si->si_overrun < 0)
		q_bad++;
}

static void on_timer(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)uc;
	count++;
	if (si->si_value.sival_int != 42 || si->si_code != SI_TIMER || si->si_timerid != p_id) {
		bad++;
		bad_value = si->si_value.sival_int;
		bad_code = si->si_code;
		bad_id = si->si_timerid;
	}
}

static double ts_sec(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

static int make_timer(int notify, int value, timer_t *t)
{
	struct sigevent ev = { .sigev_notify = notify, .sigev_signo = SIGRTMIN + 1,
			       .sigev_value.sival_int = value };

	return timer_create(CLOCK_MONOTONIC, &ev, t);
}

/* Until its count passes @n or @seconds pass. */
static void wait_count(int n, double seconds)
{
	double deadline = wl_now() + seconds;

	while (count < n && wl_now() < deadline)
		usleep(20000);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_timer, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigaction sa_q = { .sa_sigaction = on_q, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigevent q_ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_value.sival_int = 7 };
	struct itimerspec q_set = { { 0, 50 * MS }, { 0, 50 * MS } };
	sigset_t q_mask, pending;
	timer_t q;
	struct itimerspec p_set = { { 0, 150 * MS }, { 0, 150 * MS } }, o_set = { .it_value = { 60, 0 } };
	struct itimerspec got;
	timer_t p, o, dummy[5];
	int before;
	double start;

	wl_init();
	sigaction(SIGRTMIN + 1, &sa, NULL);
	for (int i = 0; i < 5; i++)
		if (make_timer(SIGEV_NONE, 0, &dummy[i]))
			return printf("FAIL: setup: timer_create: %s\n", strerror(errno)), 1;
	for (int i = 0; i < 5; i++)
		timer_delete(dummy[i]);
	if (make_timer(SIGEV_SIGNAL, 42, &p) || make_timer(SIGEV_NONE, 0, &dummy[0]))
		return printf("FAIL: setup: timer_create: %s\n", strerror(errno)), 1;
	timer_delete(dummy[0]);
	if (make_timer(SIGEV_NONE, 0, &o))
		return printf("FAIL: setup: timer_create: %s\n", strerror(errno)), 1;
	p_id = (int)(intptr_t)p;
	sigaction(SIGRTMIN + 2, &sa_q, NULL);
	sigemptyset(&q_mask);
	sigaddset(&q_mask, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &q_mask, NULL);
	q_ev.sigev_signo = SIGRTMIN + 2;
	if (timer_create(CLOCK_BOOTTIME, &q_ev, &q))
		return printf("FAIL: setup: timer_create(Q): %s\n", strerror(errno)), 1;
	q_id = (int)(intptr_t)q;
	if (timer_settime(p, 0, &p_set, NULL) || timer_settime(o, 0, &o_set, NULL) ||
	    timer_settime(q, 0, &q_set, NULL))
		return printf("FAIL: setup: timer_settime: %s\n", strerror(errno)), 1;
	wait_count(2, WL_WAIT_MS / 1000);
	if (count < 2 || bad)
		return printf("FAIL: setup: %d signals, %d bad\n", count, bad), 1;
	printf("timer ids %d %d %d\n", p_id, (int)(intptr_t)o, q_id);
	sigpending(&pending);
	if (!sigismember(&pending, SIGRTMIN + 2))
		return printf("FAIL: setup: Q's signal is not pending\n"), 1;
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt()) {
		p_set.it_interval.tv_nsec = 300 * MS;
		timer_settime(p, 0, &p_set, NULL);
	}
	if (timer_gettime(p, &got)) {
		wl_fail("timer_gettime(P, id %d): %s", p_id, strerror(errno));
	} else {
		printf("P: interval %.6f s, remaining %.6f s\n", ts_sec(&got.it_interval),
		       ts_sec(&got.it_value));
		WL_CHECK(got.it_interval.tv_sec == 0 && got.it_interval.tv_nsec == 150 * MS,
			 "P's interval is %.6f s, expected 0.15", ts_sec(&got.it_interval));
		WL_CHECK(ts_sec(&got.it_value) > 0 && ts_sec(&got.it_value) <= 0.15,
			 "P's remaining time is %.6f s, expected in (0, 0.15]", ts_sec(&got.it_value));
	}
	if (timer_gettime(o, &got)) {
		wl_fail("timer_gettime(O, id %d): %s", (int)(intptr_t)o, strerror(errno));
	} else {
		printf("O: interval %.6f s, remaining %.6f s\n", ts_sec(&got.it_interval),
		       ts_sec(&got.it_value));
		WL_CHECK(got.it_interval.tv_sec == 0 && got.it_interval.tv_nsec == 0,
			 "O has an interval of %.6f s, expected none", ts_sec(&got.it_interval));
		WL_CHECK(ts_sec(&got.it_value) > 0 && ts_sec(&got.it_value) <= 60,
			 "O's remaining time is %.6f s, expected in (0, 60]", ts_sec(&got.it_value));
	}
	WL_CHECK(timer_getoverrun(p) >= 0, "timer_getoverrun(P): %s", strerror(errno));

	/* 3 periods of 150 ms: 0.45 s; allow much more on a slow machine. */
	before = count;
	start = wl_now();
	wait_count(before + 3, 10);
	printf("P: %d more signals in %.1f s\n", count - before, wl_now() - start);
	WL_CHECK(count >= before + 3, "P's signal arrived %d times in 10 s, expected at least 3",
		 count - before);
	WL_CHECK(!bad, "%d of P's signals came with value %d, code %d, timer id %d; expected 42, %d, %d",
		 bad, bad_value, bad_code, bad_id, SI_TIMER, p_id);

	sigpending(&pending);
	WL_CHECK(sigismember(&pending, SIGRTMIN + 2), "Q's queued signal is no longer pending");
	WL_CHECK(q_count == 0, "Q's blocked signal was delivered %d times", q_count);
	sigprocmask(SIG_UNBLOCK, &q_mask, NULL);
	start = wl_now();
	while (q_count < 4 && wl_now() < start + 10)
		usleep(20000);
	printf("Q: %d signals in %.1f s once unblocked\n", q_count, wl_now() - start);
	WL_CHECK(q_count >= 4, "Q's signal arrived %d times in 10 s once unblocked: its delivery did not rearm it",
		 q_count);
	WL_CHECK(!q_bad, "%d of Q's signals came without value 7, SI_TIMER and id %d", q_bad, q_id);
	return wl_finish();
}
