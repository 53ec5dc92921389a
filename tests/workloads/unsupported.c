// SPDX-License-Identifier: GPL-2.0
/*
 * Holds one object that checkpoint does not support yet, named by
 * CR_UNSUPPORTED: "cputimer" (a POSIX timer on CLOCK_PROCESS_CPUTIME_ID),
 * "socket" (a unix socket pair), "io_uring" (an io_uring instance), "pidfd"
 * (a pidfd of itself) or "opath" (an O_PATH fd of a directory). A
 * checkpoint must fail naming it and leave the process running untouched;
 * the verification then only checks that the object is still there.
 */
#include <fcntl.h>
#include <linux/io_uring.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>

#include "workload.h"

int main(void)
{
	const char *what = getenv("CR_UNSUPPORTED");
	struct io_uring_params params = { 0 };
	struct stat st;
	timer_t timer;
	int fd = -1, sv[2];

	wl_init();
	if (!what)
		return printf("FAIL: setup: CR_UNSUPPORTED is not set\n"), 1;
	if (!strcmp(what, "cputimer")) {
		if (timer_create(CLOCK_PROCESS_CPUTIME_ID, NULL, &timer))
			return printf("FAIL: setup: timer_create: %s\n", strerror(errno)), 1;
	} else if (!strcmp(what, "socket")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			return printf("FAIL: setup: socketpair: %s\n", strerror(errno)), 1;
		fd = sv[0];
	} else if (!strcmp(what, "io_uring")) {
		fd = (int)syscall(__NR_io_uring_setup, 4, &params);
		if (fd < 0)
			return printf("FAIL: setup: io_uring_setup: %s\n", strerror(errno)), 1;
	} else if (!strcmp(what, "pidfd")) {
		fd = (int)syscall(__NR_pidfd_open, getpid(), 0);
		if (fd < 0)
			return printf("FAIL: setup: pidfd_open: %s\n", strerror(errno)), 1;
	} else if (!strcmp(what, "opath")) {
		fd = open("/tmp", O_PATH | O_DIRECTORY);
		if (fd < 0)
			return printf("FAIL: setup: open O_PATH: %s\n", strerror(errno)), 1;
	} else {
		return printf("FAIL: setup: unknown CR_UNSUPPORTED=%s\n", what), 1;
	}
	wl_ready();
	wl_wait_verify();
	if (fd >= 0)
		WL_CHECK(!fstat(fd, &st), "fd %d (%s) is gone: %s", fd, what, strerror(errno));
	else
		WL_CHECK(timer_delete(timer) == 0, "the CPU-time timer is gone: %s", strerror(errno));
	return wl_finish();
}
