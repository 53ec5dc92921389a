// SPDX-License-Identifier: GPL-2.0
/*
 * A process checkpointed while blocked in read() on an empty pipe is still
 * blocked after restart and gets the bytes its SA_RESTART handler writes
 * when SIGUSR1 arrives: the read is restarted, not failed with EINTR.
 */
#include "workload.h"

static int pipe_fd[2];

static void on_usr1(int sig)
{
	(void)sig;
	write(pipe_fd[1], "wake", 4);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	char buf[8] = { 0 };
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(pipe_fd))
		return 1;
	sigaction(SIGUSR1, &sa, NULL);
	wl_ready();
	n = read(pipe_fd[0], buf, 4);
	WL_CHECK(n == 4 && !memcmp(buf, "wake", 4), "read returned %zd (%s) '%s'", n,
		 n < 0 ? strerror(errno) : "", buf);
	if (wl_corrupt())
		wl_fail("corrupted on request");
	return wl_finish();
}
