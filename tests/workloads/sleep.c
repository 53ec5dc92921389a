// SPDX-License-Identifier: GPL-2.0
/*
 * A process checkpointed inside nanosleep() finishes the sleep after
 * restart: the call returns 0, not EINTR, and no earlier than asked.
 */
#include "workload.h"

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 4;
	struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };
	double start;
	int ret;

	wl_init();
	wl_ready();
	start = wl_now();
	ret = nanosleep(&ts, NULL);
	WL_CHECK(ret == 0, "nanosleep returned %d (%s)", ret, strerror(errno));
	WL_CHECK(wl_now() - start >= secs - 0.01, "slept %.2f s of %.2f", wl_now() - start, secs);
	printf("slept %.2f s\n", wl_now() - start);
	if (wl_corrupt())
		wl_fail("corrupted on request");
	return wl_finish();
}
