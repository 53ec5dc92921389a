// SPDX-License-Identifier: GPL-2.0
/*
 * Two eventfds keep their counters and modes: A (EFD_NONBLOCK) holds 90,
 * B (EFD_SEMAPHORE, blocking) holds 3. After restart a read of A gives 90
 * at once and then EAGAIN, A is still O_NONBLOCK; B is not O_NONBLOCK and
 * gives 1 three times (a semaphore, not the whole count), then nothing.
 * Both still count afterwards. "eventfd A fd N B fd M" is printed for a
 * test to read the counters in /proc/PID/fdinfo (5a and 3).
 *
 * CR_CORRUPT=1 adds 1 to A before verifying.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/eventfd.h>

#include "workload.h"

static int readable(int fd)
{
	return poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 0) == 1;
}

int main(void)
{
	uint64_t v = 90;
	ssize_t n;
	int a, b;

	wl_init();
	a = eventfd(0, EFD_NONBLOCK);
	b = eventfd(3, EFD_SEMAPHORE);
	if (a < 0 || b < 0 || write(a, &v, sizeof(v)) != sizeof(v)) {
		printf("FAIL: setup: %s\n", strerror(errno));
		return 1;
	}
	printf("eventfd A fd %d B fd %d\n", a, b);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt()) {
		v = 1;
		write(a, &v, sizeof(v));
	}
	WL_CHECK(fcntl(a, F_GETFL) & O_NONBLOCK, "A lost O_NONBLOCK");
	WL_CHECK(!(fcntl(b, F_GETFL) & O_NONBLOCK), "B became O_NONBLOCK");
	v = 0;
	n = read(a, &v, sizeof(v));
	if (n != sizeof(v))
		wl_fail("A: read: %s", n < 0 ? strerror(errno) : "short");
	else
		WL_CHECK(v == 90, "A read %llu, expected 90", (unsigned long long)v);
	errno = 0;
	WL_CHECK(read(a, &v, sizeof(v)) < 0 && errno == EAGAIN,
		 "A read again did not say EAGAIN (%s)", strerror(errno));

	/* B blocks when empty: look before each read, so a lost count fails instead of hanging. */
	for (int i = 0; i < 3; i++) {
		v = 0;
		if (!readable(b)) {
			wl_fail("B is empty after %d reads, expected 3", i);
			break;
		}
		WL_CHECK(read(b, &v, sizeof(v)) == sizeof(v) && v == 1,
			 "B read %d gave %llu, expected 1 (a semaphore)", i, (unsigned long long)v);
	}
	WL_CHECK(!readable(b), "B is still readable after 3 reads");
	fcntl(b, F_SETFL, O_NONBLOCK);
	errno = 0;
	WL_CHECK(read(b, &v, sizeof(v)) < 0 && errno == EAGAIN,
		 "B read a fourth time did not say EAGAIN (%s)", strerror(errno));

	/* They still count. */
	v = 7;
	write(a, &v, sizeof(v));
	write(b, &v, sizeof(v));
	v = 0;
	WL_CHECK(read(a, &v, sizeof(v)) == sizeof(v) && v == 7, "A no longer counts (%llu)",
		 (unsigned long long)v);
	v = 0;
	WL_CHECK(read(b, &v, sizeof(v)) == sizeof(v) && v == 1, "B no longer counts (%llu)",
		 (unsigned long long)v);
	return wl_finish();
}
