// SPDX-License-Identifier: GPL-2.0
/*
 * Two children stopped by SIGSTOP: the parent already reaped A's stop with
 * waitpid(WUNTRACED), not B's. After restart both are still stopped and do
 * not run, A's stop is not reported a second time, B's is reported now,
 * and restart sent the parent no SIGCHLD. Each, continued, runs again: it
 * writes its name on a pipe and exits with its own status.
 */
#include <sys/wait.h>

#include "workload.h"

static volatile sig_atomic_t sigchld_count;

static void on_sigchld(int sig)
{
	(void)sig;
	sigchld_count++;
}

static int go[2];

/* Stops itself; once continued, says its name and exits with @code when told to. */
static pid_t spawn_stopped(int out, char name, int code)
{
	pid_t pid = fork();
	char byte;

	if (pid == 0) {
		raise(SIGSTOP);
		if (write(out, &name, 1) != 1 || wl_get(go[0], &byte, 1))
			_exit(100);
		_exit(code);
	}
	return pid;
}

static char task_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Continue @pid: it must report continued, say @name on the pipe and exit with @code. */
static void continue_and_reap(pid_t pid, int in, char name, int code)
{
	int status = 0;
	char got = 0;

	kill(pid, SIGCONT);
	WL_CHECK(waitpid(pid, &status, WCONTINUED) == pid && WIFCONTINUED(status),
		 "%c: not reported continued (status %#x)", name, status);
	WL_CHECK(wl_get(in, &got, 1) == 0 && got == name, "%c: did not run once continued", name);
	wl_put(go[1], "g", 1);
	WL_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == code,
		 "%c: exit status %#x, expected %d", name, status, code);
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_sigchld, .sa_flags = SA_RESTART };
	int pipefd[2], status = 0, count_at_ready;
	pid_t a, b;

	wl_init();
	sigaction(SIGCHLD, &sa, NULL);
	if (pipe(pipefd) || pipe(go))
		return 1;
	a = spawn_stopped(pipefd[1], 'A', 7);
	b = spawn_stopped(pipefd[1], 'B', 8);
	if (a < 0 || b < 0)
		return 1;
	if (waitpid(a, &status, WUNTRACED) != a || !WIFSTOPPED(status))
		return 1;
	while (task_state(b) != 'T')
		usleep(10000);
	printf("A %d B %d\n", a, b);
	count_at_ready = sigchld_count;
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		kill(a, SIGCONT);
	WL_CHECK(task_state(a) == 'T' && task_state(b) == 'T', "A is in state %c and B in %c, not T",
		 task_state(a), task_state(b));
	/* Stopped means not running: neither has written its name yet. */
	usleep(200000);
	WL_CHECK(poll(&(struct pollfd){ .fd = pipefd[0], .events = POLLIN }, 1, 0) == 0,
		 "a stopped child ran: its name is on the pipe");
	WL_CHECK(waitpid(a, &status, WUNTRACED | WNOHANG) == 0,
		 "A's stop, reported before checkpoint, was reported again");
	status = 0;
	WL_CHECK(waitpid(b, &status, WUNTRACED | WNOHANG) == b && WIFSTOPPED(status) &&
		 WSTOPSIG(status) == SIGSTOP, "B's stop was not reported (status %#x)", status);
	WL_CHECK(sigchld_count == count_at_ready, "%d SIGCHLD arrived after READY",
		 sigchld_count - count_at_ready);
	continue_and_reap(a, pipefd[0], 'A', 7);
	continue_and_reap(b, pipefd[0], 'B', 8);
	return wl_finish();
}
