// SPDX-License-Identifier: GPL-2.0
/*
 * bench-run: run one command and report its wall time and peak RSS.
 *
 *   bench-run OUTPUT TIMEOUT_S COMMAND [ARGS...]
 *
 * The command's stdout and stderr go to OUTPUT; one JSON line on our
 * stdout: {"seconds": wall time from fork to exit, "status": exit code
 * (128+N if killed by signal N, 124 on timeout), "maxrss_kib": ...}.
 *
 * Why not time it from Python: a child forked (or vforked) from the
 * harness's Python would carry that process's RSS into its ru_maxrss, and
 * the fork/exec of a 20 MiB interpreter would be in the wall time. This
 * program is small, so what wait4() reports is the command's own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
	kill(child, SIGKILL);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct rusage ru;
	int status, out;
	pid_t pid;
	double t0, timeout;

	if (argc < 4) {
		fprintf(stderr, "usage: bench-run OUTPUT TIMEOUT_S COMMAND [ARGS...]\n");
		return 2;
	}
	out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		perror(argv[1]);
		return 2;
	}
	timeout = atof(argv[2]);
	t0 = now();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
		execvp(argv[3], argv + 3);
		dprintf(out, "bench-run: cannot run %s: %s\n", argv[3], strerror(errno));
		_exit(127);
	}
	child = pid;
	/* Block in wait4 (no polling that would steal a vCPU from the command); SIGALRM ends it. */
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout > 0 ? (unsigned)timeout + 1 : 0);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("wait4");
			return 2;
		}
	}
	alarm(0);
	double secs = now() - t0;
	int code = timed_out ? 124 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

	printf("{\"seconds\": %.6f, \"status\": %d, \"maxrss_kib\": %ld}\n", secs, code, ru.ru_maxrss);
	return 0;
}
