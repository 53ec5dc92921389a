/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The protocol of a C/R test workload: set up state, print READY, wait;
 * after restart the harness sends SIGUSR1, the workload checks every piece
 * of its state itself and prints PASS or FAIL: <what differed>, exiting 0
 * or 1. stdout is a regular file the harness reads.
 *
 * CR_CORRUPT=1 in the environment flips a piece of state before verifying,
 * so a run without C/R proves the checks can fail.
 */
#ifndef CR_WORKLOAD_H
#define CR_WORKLOAD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

static volatile sig_atomic_t wl_verify_requested;

static void wl_on_verify(int sig)
{
	(void)sig;
	wl_verify_requested = 1;
}

static int wl_failures;

/* Safe from any thread: one FAIL line at a time. */
static __attribute__((unused)) void wl_fail(const char *fmt, ...)
{
	va_list ap;

	flockfile(stdout);
	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	funlockfile(stdout);
	__atomic_fetch_add(&wl_failures, 1, __ATOMIC_RELAXED);
}

#define WL_CHECK(cond, ...) do { if (!(cond)) wl_fail(__VA_ARGS__); } while (0)

static __attribute__((unused)) int wl_corrupt(void)
{
	const char *c = getenv("CR_CORRUPT");

	return c && *c == '1';
}

/* Install the SIGUSR1 trigger; call before READY. */
static __attribute__((unused)) void wl_init(void)
{
	struct sigaction sa = { .sa_handler = wl_on_verify };

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGUSR1, &sa, NULL);
}

static __attribute__((unused)) void wl_ready(void)
{
	printf("READY\n");
	fflush(stdout);
}

static __attribute__((unused)) double wl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Wait for SIGUSR1 without blocking in a syscall the test is not about. */
static __attribute__((unused)) void wl_wait_verify(void)
{
	while (!wl_verify_requested)
		usleep(20000);
}

static __attribute__((unused)) int wl_finish(void)
{
	if (wl_failures)
		return 1;
	printf("PASS\n");
	fflush(stdout);
	return 0;
}


/* How long a workload waits for its other half (a process, a thread) after restart. */
#define WL_WAIT_MS	(60 * 1000)

/* Read exactly @len bytes from pipe end @from, waiting at most WL_WAIT_MS: 0 or -1. */
static __attribute__((unused)) int wl_get(int from, void *buf, size_t len)
{
	struct pollfd p = { .fd = from, .events = POLLIN };
	size_t got = 0;

	while (got < len) {
		ssize_t n;
		int r = poll(&p, 1, WL_WAIT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		n = read(from, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += n;
	}
	return 0;
}

static __attribute__((unused)) void wl_put(int to, const void *buf, size_t len)
{
	if (write(to, buf, len) != (ssize_t)len)
		wl_fail("write to a pipe: %s", strerror(errno));
}

#endif
