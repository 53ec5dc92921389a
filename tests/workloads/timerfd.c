// SPDX-License-Identifier: GPL-2.0
/*
 * Timerfds keep running: A, CLOCK_MONOTONIC every 100 ms (TFD_NONBLOCK),
 * is left unread for at least 400 ms before READY so expirations pile up;
 * B, CLOCK_REALTIME, is a one-shot armed for 30 s.
 *
 * After restart A still has its 100 ms interval and a remaining time in
 * (0, 100 ms]; one read returns the piled-up expirations (at least 3, and
 * no more than the time since arming allows), then it keeps firing: it is
 * readable again within a few seconds. B has not fired, has no interval
 * and a remaining time in (0, 30 s].
 *
 * CR_CORRUPT=1 reads A's expirations away before verifying.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/timerfd.h>

#include "workload.h"

#define MS	1000000L

static double ts_sec(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

static int readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	double deadline = wl_now() + timeout_ms / 1e3;
	int r;

	/* The harness's SIGUSR1 and the like may interrupt the wait. */
	do {
		int left = (int)((deadline - wl_now()) * 1e3);

		r = poll(&p, 1, left > 0 ? left : 0);
	} while (r < 0 && errno == EINTR);
	return r == 1;
}

int main(void)
{
	struct itimerspec a_set = { .it_interval = { 0, 100 * MS }, .it_value = { 0, 100 * MS } };
	struct itimerspec b_set = { .it_value = { 30, 0 } }, got;
	double armed_at, now;
	uint64_t ticks = 0;
	int a, b;

	wl_init();
	a = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	b = timerfd_create(CLOCK_REALTIME, 0);
	if (a < 0 || b < 0 || timerfd_settime(a, 0, &a_set, NULL) ||
	    timerfd_settime(b, 0, &b_set, NULL)) {
		printf("FAIL: setup: %s\n", strerror(errno));
		return 1;
	}
	armed_at = wl_now();
	/* Expired, but not read: the count grows in the kernel. */
	if (!readable(a, WL_WAIT_MS)) {
		printf("FAIL: setup: A never fired\n");
		return 1;
	}
	while (wl_now() < armed_at + 0.4)
		usleep(20000);
	printf("timerfd interval %ld ms\n", a_set.it_interval.tv_nsec / MS);
	printf("timerfd A fd %d B fd %d\n", a, b);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		read(a, &ticks, sizeof(ticks));
	WL_CHECK(fcntl(a, F_GETFL) & O_NONBLOCK, "A lost O_NONBLOCK");
	WL_CHECK(!(fcntl(b, F_GETFL) & O_NONBLOCK), "B became O_NONBLOCK");

	WL_CHECK(timerfd_gettime(a, &got) == 0, "timerfd_gettime(A): %s", strerror(errno));
	printf("A: interval %ld.%09ld s, remaining %ld.%09ld s\n", (long)got.it_interval.tv_sec,
	       got.it_interval.tv_nsec, (long)got.it_value.tv_sec, got.it_value.tv_nsec);
	WL_CHECK(got.it_interval.tv_sec == 0 && got.it_interval.tv_nsec == 100 * MS,
		 "A's interval is %.6f s, expected 0.1", ts_sec(&got.it_interval));
	WL_CHECK(ts_sec(&got.it_value) > 0 && ts_sec(&got.it_value) <= 0.1,
		 "A's remaining time is %.6f s, expected in (0, 0.1]", ts_sec(&got.it_value));

	ticks = 0;
	WL_CHECK(read(a, &ticks, sizeof(ticks)) == sizeof(ticks),
		 "A had no expirations to read (%s)", strerror(errno));
	now = wl_now();
	printf("A: %llu expirations read %.1f s after arming\n", (unsigned long long)ticks,
	       now - armed_at);
	WL_CHECK(ticks >= 3, "A read %llu expirations, expected at least 3", (unsigned long long)ticks);
	WL_CHECK(ticks <= (now - armed_at) / 0.1 + 2,
		 "A read %llu expirations, more than %.1f s at 100 ms allow",
		 (unsigned long long)ticks, now - armed_at);
	/* It keeps firing (generous: the emulated CPU is slow). */
	ticks = 0;
	WL_CHECK(readable(a, 5000) && read(a, &ticks, sizeof(ticks)) == sizeof(ticks) && ticks >= 1,
		 "A did not fire again within 5 s of the read");

	WL_CHECK(timerfd_gettime(b, &got) == 0, "timerfd_gettime(B): %s", strerror(errno));
	printf("B: interval %ld.%09ld s, remaining %ld.%09ld s\n", (long)got.it_interval.tv_sec,
	       got.it_interval.tv_nsec, (long)got.it_value.tv_sec, got.it_value.tv_nsec);
	WL_CHECK(got.it_interval.tv_sec == 0 && got.it_interval.tv_nsec == 0,
		 "B has an interval of %.6f s, expected none", ts_sec(&got.it_interval));
	WL_CHECK(ts_sec(&got.it_value) > 0 && ts_sec(&got.it_value) <= 30,
		 "B's remaining time is %.6f s, expected in (0, 30]", ts_sec(&got.it_value));
	WL_CHECK(!readable(b, 0), "the 30 s one-shot B has already fired");
	return wl_finish();
}
