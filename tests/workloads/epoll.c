// SPDX-License-Identifier: GPL-2.0
/*
 * Two epoll instances over the read ends of six pipes keep their targets,
 * data words, modes and readiness. Epoll 1 watches pipes 0-2 (EPOLLIN,
 * data 100 + i; pipe 1 EPOLLET, pipe 2 EPOLLONESHOT), epoll 2 (created
 * EPOLL_CLOEXEC) pipes 3-5 (EPOLLIN, data 200 + i). Pipes 1, 3 and 5 were
 * registered through a dup (fd 40 + i) closed since: the registration
 * lives on, keyed by that fd number, as long as the pipe is open. Pipes 0,
 * 1 and 4 hold data, and one epoll_wait on epoll 1 before READY consumed
 * pipe 1's edge.
 *
 * After restart a wait (timeout 0) on epoll 1 reports pipe 0 (data 100)
 * only, not pipe 1, whose edge was consumed; epoll 2 reports pipe 4
 * (204) only. New data on pipe 1 reports it once; data on pipe 2 reports
 * it once, and no more until EPOLL_CTL_MOD rearms it; level-triggered
 * pipes report as long as they hold data. Pipe 3 is still registered as
 * fd 43, not as its own fd (EPOLL_CTL_MOD through that says ENOENT).
 * Epoll 3 watches epoll 2 (nested, data 300): it reports epoll 2 ready
 * after restart, and not once epoll 2 has nothing ready.
 * "epoll fds E1 E2" is printed for a test to compare /proc/PID/fdinfo.
 *
 * CR_CORRUPT=1 writes to pipe 1 before verifying: its edge comes back.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "workload.h"

#define DUP_BASE	40

static int p[6][2];

/* The pipes @ep reports ready now, as a bit mask; unknown data words fail. */
static unsigned int ready(int ep, int first)
{
	struct epoll_event ev[16];
	unsigned int set = 0;
	int n;

	do
		n = epoll_wait(ep, ev, 16, 0);
	while (n < 0 && errno == EINTR);
	WL_CHECK(n >= 0, "epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		uint64_t d = ev[i].data.u64;
		int pipe = (int)(d % 100);

		if (d != (uint64_t)(first == 0 ? 100 : 200) + pipe || pipe < first || pipe > first + 2)
			wl_fail("epoll %d reported data %llu, which it was not given", first ? 2 : 1,
				(unsigned long long)d);
		else
			set |= 1u << pipe;
		WL_CHECK(ev[i].events == EPOLLIN, "epoll reported events %#x for data %llu, expected EPOLLIN",
			 ev[i].events, (unsigned long long)d);
	}
	return set;
}

static void expect(int ep, int first, unsigned int want, const char *when)
{
	unsigned int got = ready(ep, first);

	WL_CHECK(got == want, "epoll %d %s: ready pipes %#x, expected %#x (bit i: pipe i)",
		 first ? 2 : 1, when, got, want);
}

/* Does the nested epoll 3 report epoll 2 (data 300) ready? */
static int nested_ready(int ep3)
{
	struct epoll_event ev[2];
	int n;

	do
		n = epoll_wait(ep3, ev, 2, 0);
	while (n < 0 && errno == EINTR);
	WL_CHECK(n >= 0 && n <= 1, "epoll 3 wait returned %d (%s)", n, strerror(errno));
	WL_CHECK(n < 1 || (ev[0].data.u64 == 300 && ev[0].events == EPOLLIN),
		 "epoll 3 reported data %llu events %#x, expected 300 EPOLLIN",
		 (unsigned long long)ev[0].data.u64, ev[0].events);
	return n == 1;
}

static void put(int i, const char *s)
{
	wl_put(p[i][1], s, strlen(s));
}

int main(void)
{
	struct epoll_event ev;
	int ep1, ep2, ep3, flags;
	unsigned int set;
	char buf[64];

	wl_init();
	for (int i = 0; i < 6; i++)
		if (pipe(p[i]))
			return printf("FAIL: setup: pipe: %s\n", strerror(errno)), 1;
	ep1 = epoll_create1(0);
	ep2 = epoll_create1(EPOLL_CLOEXEC);
	ep3 = epoll_create1(0);
	if (ep1 < 0 || ep2 < 0 || ep3 < 0)
		return printf("FAIL: setup: epoll_create1: %s\n", strerror(errno)), 1;
	ev.events = EPOLLIN;
	ev.data.u64 = 300;
	if (epoll_ctl(ep3, EPOLL_CTL_ADD, ep2, &ev))
		return printf("FAIL: setup: nesting epoll 2 in 3: %s\n", strerror(errno)), 1;
	for (int i = 0; i < 6; i++) {
		int target = p[i][0];

		ev.events = EPOLLIN | (i == 1 ? EPOLLET : 0) | (i == 2 ? EPOLLONESHOT : 0);
		ev.data.u64 = (i < 3 ? 100 : 200) + i;
		if (i % 2) {
			target = fcntl(p[i][0], F_DUPFD, DUP_BASE + i);
			if (target != DUP_BASE + i)
				return printf("FAIL: setup: no fd %d\n", DUP_BASE + i), 1;
		}
		if (epoll_ctl(i < 3 ? ep1 : ep2, EPOLL_CTL_ADD, target, &ev))
			return printf("FAIL: setup: epoll_ctl: %s\n", strerror(errno)), 1;
		if (target != p[i][0])
			close(target);
	}
	put(0, "zero");
	put(1, "one");
	put(4, "four");
	/* This wait takes pipe 1's edge. */
	set = ready(ep1, 0);
	if (set != 3u)
		return printf("FAIL: setup: epoll 1 first reported %#x, not pipes 0 and 1\n", set), 1;
	set = ready(ep1, 0) | ready(ep2, 3);
	if (set != (1u | 1u << 4) || wl_failures)
		return printf("FAIL: setup: the second wait reported %#x, not pipes 0 and 4\n", set), 1;
	printf("epoll fds %d %d\n", ep1, ep2);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		put(1, "!");
	flags = fcntl(ep1, F_GETFD);
	WL_CHECK(flags == 0, "epoll 1 has fd flags %#x, expected none", flags);
	flags = fcntl(ep2, F_GETFD);
	WL_CHECK(flags == FD_CLOEXEC, "epoll 2 lost FD_CLOEXEC (fd flags %#x)", flags);

	WL_CHECK(nested_ready(ep3), "epoll 3 does not report epoll 2 (pipe 4 ready) after restart");
	expect(ep1, 0, 1u << 0, "after restart (pipe 1's edge was consumed before)");
	expect(ep2, 3, 1u << 4, "after restart");

	/* Edge-triggered: new data, one report. */
	put(1, "more");
	expect(ep1, 0, 1u << 0 | 1u << 1, "after data on pipe 1 (EPOLLET)");
	expect(ep1, 0, 1u << 0, "a second time after data on pipe 1 (EPOLLET)");

	/* One-shot: one report, then nothing until rearmed. */
	put(2, "two");
	expect(ep1, 0, 1u << 0 | 1u << 2, "after data on pipe 2 (EPOLLONESHOT)");
	expect(ep1, 0, 1u << 0, "a second time after data on pipe 2 (EPOLLONESHOT)");
	put(2, "again");
	expect(ep1, 0, 1u << 0, "after more data on the fired pipe 2 (EPOLLONESHOT)");
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u64 = 102;
	WL_CHECK(epoll_ctl(ep1, EPOLL_CTL_MOD, p[2][0], &ev) == 0, "rearming pipe 2: %s", strerror(errno));
	expect(ep1, 0, 1u << 0 | 1u << 2, "after rearming pipe 2");

	/* Level-triggered: as long as there is data. */
	put(3, "three");
	expect(ep2, 3, 1u << 3 | 1u << 4, "after data on pipe 3");
	WL_CHECK(read(p[4][0], buf, sizeof(buf)) == 4 && !memcmp(buf, "four", 4),
		 "pipe 4 did not hold its data");
	put(5, "five");
	expect(ep2, 3, 1u << 3 | 1u << 5, "after reading pipe 4 and data on pipe 5");
	WL_CHECK(read(p[3][0], buf, sizeof(buf)) == 5 && read(p[5][0], buf, sizeof(buf)) == 4,
		 "pipes 3 and 5 did not hold their data");
	WL_CHECK(!nested_ready(ep3), "epoll 3 reports epoll 2 ready with nothing ready in it");
	memset(buf, 0, sizeof(buf));
	WL_CHECK(read(p[0][0], buf, sizeof(buf)) == 4 && !memcmp(buf, "zero", 4),
		 "pipe 0 did not hold its data");
	expect(ep1, 0, 0, "after reading pipe 0");

	/* Pipe 3's registration is keyed by the closed dup's number. */
	ev.events = EPOLLIN;
	ev.data.u64 = 203;
	errno = 0;
	WL_CHECK(epoll_ctl(ep2, EPOLL_CTL_MOD, p[3][0], &ev) < 0 && errno == ENOENT,
		 "pipe 3 is registered through its own fd %d, not the closed fd %d (%s)", p[3][0],
		 DUP_BASE + 3, strerror(errno));
	return wl_finish();
}
