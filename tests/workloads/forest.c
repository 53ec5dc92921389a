// SPDX-License-Identifier: GPL-2.0
/*
 * A tree of many small processes (argv[1], default 100): each forks up to
 * four children until the count is reached, then waits in pause(). SIGUSR1
 * to the root is passed down; each process exits 0 once all its children
 * exited 0, and the root prints PASS with the number of processes.
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "workload.h"

#define FANOUT	4

static pid_t children[FANOUT];
static int nr_children;

int main(int argc, char **argv)
{
	int total = argc > 1 ? atoi(argv[1]) : 100;
	int index = 0, ok = 1, created = 1;
	pid_t root = getpid();
	int ready[2];

	wl_init();
	if (pipe(ready))
		return 1;
	/* Breadth-first numbering: process i's children are 4i+1 .. 4i+4. */
	for (int c = 0; c < FANOUT; c++) {
		int child = FANOUT * index + 1 + c;

		if (child >= total)
			break;
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			index = child;
			nr_children = 0;
			c = -1;		/* start over with our own children */
			continue;
		}
		children[nr_children++] = pid;
	}
	if (getpid() != root) {
		close(ready[0]);
		if (write(ready[1], "x", 1) != 1)
			return 1;
	} else {
		/* Every process reports once its own children are forked. */
		char byte;

		close(ready[1]);
		while (created < total && read(ready[0], &byte, 1) == 1)
			created++;
		printf("%d processes\n", created);
		wl_ready();
	}
	while (!wl_verify_requested)
		pause();
	for (int i = 0; i < nr_children; i++)
		kill(children[i], SIGUSR1);
	for (int i = 0; i < nr_children; i++) {
		int status;

		if (waitpid(children[i], &status, 0) != children[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ok = 0;
	}
	if (getpid() != root)
		return ok ? 0 : 1;
	if (wl_corrupt())
		ok = 0;
	WL_CHECK(ok, "a process of the tree did not pass");
	return wl_finish();
}
