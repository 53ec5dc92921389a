// SPDX-License-Identifier: GPL-2.0
/*
 * An epoll that watches a pipe no fd of this process holds: the pipe is kept
 * open by a process outside the tree.
 *
 *   epoll_outside FD
 *
 * FD is the read end of a pipe inherited from the test, which keeps both
 * ends open and has put bytes in the pipe. The workload adds FD to a new
 * epoll (EPOLLIN, data 42), closes FD (the watch lives on: the pipe's file
 * is still open, in the test) and prints "epoll fd E watches fd FD" and
 * READY. It never reads the pipe.
 *
 * On SIGUSR1 it checks that FD is still closed and that the epoll still
 * reports the pipe readable (data 42, EPOLLIN); then PASS (exit 0) or FAIL.
 *
 * CR_CORRUPT=1 replaces the epoll by an empty one before verifying.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "workload.h"

#define WATCH_DATA	42

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WATCH_DATA }, got[4];
	int fd, ep, n;

	if (argc != 2) {
		fprintf(stderr, "usage: epoll_outside FD\n");
		return 2;
	}
	fd = atoi(argv[1]);
	wl_init();
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		printf("FAIL: epoll of fd %d: %s\n", fd, strerror(errno));
		return 1;
	}
	if (close(fd)) {
		printf("FAIL: close(%d): %s\n", fd, strerror(errno));
		return 1;
	}
	printf("epoll fd %d watches fd %d\n", ep, fd);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt()) {
		int fresh = epoll_create1(0);

		dup2(fresh, ep);
		close(fresh);
	}
	WL_CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "fd %d is open again", fd);
	do
		n = epoll_wait(ep, got, 4, 0);
	while (n < 0 && errno == EINTR);
	WL_CHECK(n == 1, "epoll_wait reported %d files (%s), expected the pipe", n, n < 0 ? strerror(errno) : "");
	if (n == 1)
		WL_CHECK(got[0].data.u64 == WATCH_DATA && (got[0].events & EPOLLIN),
			 "epoll_wait reported data %llu events %#x, expected %d with EPOLLIN",
			 (unsigned long long)got[0].data.u64, got[0].events, WATCH_DATA);
	return wl_finish();
}
