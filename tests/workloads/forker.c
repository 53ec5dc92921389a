// SPDX-License-Identifier: GPL-2.0
/*
 * A tree that never holds still: the root keeps up to 8 children alive,
 * forking a new one as soon as one is reaped; each child forks a
 * grandchild, waits for it and exits. Every exit status is derived from
 * the child's serial number, so a checkpoint taken at any moment (children
 * running, forking, exiting or waiting as zombies) must come back with
 * every child the root has not reaped yet, each exiting with its own
 * status, and no other.
 *
 * On SIGUSR1 the root forks 16 more children (the restored tree still
 * forks), stops, reaps every outstanding child within 60 s and checks
 * each status.
 */
#include <stdint.h>
#include <sys/wait.h>

#include "workload.h"

#define MAX_KIDS	8

static struct {
	pid_t pid;
	unsigned int serial;
} kids[MAX_KIDS];
static unsigned int serial, reaped;

static int child_code(unsigned int n)
{
	return n % 199;
}

static int grandchild_code(unsigned int n)
{
	return n % 47;
}

static void child(unsigned int n)
{
	int status;
	pid_t g = fork();

	if (g == 0) {
		if (n % 3 == 0)
			usleep(n % 2000);
		_exit(grandchild_code(n));
	}
	if (g < 0 || waitpid(g, &status, 0) != g || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != grandchild_code(n))
		_exit(255);
	if (n % 5 == 0)
		usleep(n % 3000);
	_exit(child_code(n));
}

static int spawn(void)
{
	for (int i = 0; i < MAX_KIDS; i++) {
		pid_t p;

		if (kids[i].pid)
			continue;
		p = fork();
		if (p == 0)
			child(serial);
		if (p < 0) {
			wl_fail("fork: %s", strerror(errno));
			return -1;
		}
		kids[i].pid = p;
		kids[i].serial = serial++;
		return 0;
	}
	return 1;	/* full */
}

/* Reap one child (blocking or not); 1 if one was reaped. */
static int reap(int flags)
{
	int status;
	pid_t p = waitpid(-1, &status, flags);

	if (p <= 0) {
		if (p < 0 && errno != EINTR && errno != ECHILD)
			wl_fail("waitpid: %s", strerror(errno));
		return 0;
	}
	for (int i = 0; i < MAX_KIDS; i++) {
		if (kids[i].pid != p)
			continue;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != child_code(kids[i].serial))
			wl_fail("child %u (pid %d) ended with status %#x, expected exit %d", kids[i].serial, p,
				status, child_code(kids[i].serial));
		kids[i].pid = 0;
		reaped++;
		return 1;
	}
	wl_fail("reaped pid %d, which is not a child of ours", p);
	return 1;
}

static int outstanding(void)
{
	int n = 0;

	for (int i = 0; i < MAX_KIDS; i++)
		n += kids[i].pid != 0;
	return n;
}

int main(void)
{
	unsigned int extra = 0;
	double deadline;

	wl_init();
	while (!wl_verify_requested) {
		if (spawn() < 0)
			break;
		while (reap(WNOHANG))
			;
		if (serial == 16)
			wl_ready();
		if (outstanding() == MAX_KIDS)
			usleep(500);
	}
	while (extra < 16) {
		int r = spawn();

		if (r < 0)
			break;
		if (r == 0)
			extra++;
		else
			reap(0);
	}
	deadline = wl_now() + WL_WAIT_MS / 1000.0;
	while (outstanding() && wl_now() < deadline)
		if (!reap(WNOHANG))
			usleep(1000);
	WL_CHECK(!outstanding(), "%d children did not exit", outstanding());
	if (wl_corrupt())
		reaped--;
	WL_CHECK(reaped == serial, "forked %u children, reaped %u", serial, reaped);
	printf("forked %u reaped %u\n", serial, reaped);
	return wl_finish();
}
