// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions and groups whose leaders are gone. The root, a child subreaper,
 * forks S, which starts session S and forks A (group A) and C (group S);
 * A forks B into its group. Then A and S exit: B and C are orphans
 * reparented to the root, B in group A, C in group S, both in session S,
 * whose ids no process has any more. After restart they are in the same
 * session and groups, and a signal to group A reaches B, to group S C.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include "workload.h"

static volatile sig_atomic_t got_usr2;

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2 = 1;
}

/* An orphan-to-be: say who it is, wait for SIGUSR2 to its group, exit 0. */
static void orphan(int out, char name)
{
	struct { char name; pid_t pid; } me = { name, getpid() };
	struct sigaction sa = { .sa_handler = on_usr2 };
	sigset_t none;

	sigemptyset(&none);
	sigaction(SIGUSR2, &sa, NULL);
	wl_put(out, &me, sizeof(me));
	while (!got_usr2)
		sigsuspend(&none);
	_exit(0);
}

static void expect_ids(char name, pid_t pid, pid_t sid, pid_t pgid)
{
	WL_CHECK(getsid(pid) == sid && getpgid(pid) == pgid,
		 "%c (%d): session %d, group %d; expected %d and %d", name, pid,
		 getsid(pid), getpgid(pid), sid, pgid);
}

int main(void)
{
	struct { char name; pid_t pid; } who[2];
	int out[2], status;
	pid_t s, a = 0, b = 0, c = 0;

	wl_init();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) || pipe(out))
		return 1;
	s = fork();
	if (s == 0) {
		setsid();
		a = fork();
		if (a == 0) {
			setpgid(0, 0);
			if (fork() == 0)
				orphan(out[1], 'B');
			_exit(0);	/* A goes; B stays in group A */
		}
		if (fork() == 0)
			orphan(out[1], 'C');
		waitpid(a, NULL, 0);
		_exit(0);	/* S goes; C stays in session and group S */
	}
	if (s < 0 || wl_get(out[0], &who[0], sizeof(who[0])) || wl_get(out[0], &who[1], sizeof(who[1])) ||
	    waitpid(s, NULL, 0) != s)
		return 1;
	for (int i = 0; i < 2; i++)
		*(who[i].name == 'B' ? &b : &c) = who[i].pid;
	a = getpgid(b);
	/* Both orphans are the root's children now, and their leaders are gone. */
	if (getppid() == 0 || kill(s, 0) == 0 || kill(a, 0) == 0)
		return 1;
	printf("B %d in group %d, C %d in group %d, session %d\n", b, a, c, s, s);
	wl_ready();
	wl_wait_verify();

	expect_ids('B', b, s, wl_corrupt() ? s : a);
	expect_ids('C', c, s, s);
	kill(-a, SIGUSR2);
	WL_CHECK(waitpid(b, &status, 0) == b && WIFEXITED(status) && !WEXITSTATUS(status),
		 "B did not get the signal to group %d (status %#x)", a, status);
	kill(-s, SIGUSR2);
	WL_CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && !WEXITSTATUS(status),
		 "C did not get the signal to group %d (status %#x)", s, status);
	return wl_finish();
}
