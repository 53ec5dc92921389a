// SPDX-License-Identifier: GPL-2.0
/*
 * A child in seccomp strict mode is still in it after restart: it echoes
 * each byte from its parent plus one (read and write are allowed), and
 * the first other syscall kills it with SIGKILL. The parent checks the
 * mode in /proc before and after, then asks the child to call getpid().
 */
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "workload.h"

static void child_echo(int in, int out)
{
	unsigned char c;

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
		syscall(SYS_exit, 3);
	/* From here on only read, write, exit and sigreturn. */
	for (;;) {
		if (read(in, &c, 1) != 1)
			syscall(SYS_exit, 4);
		if (c == 'q')
			syscall(SYS_getpid);	/* killed here */
		c++;
		if (write(out, &c, 1) != 1)
			syscall(SYS_exit, 5);
	}
}

static int seccomp_mode_of(pid_t pid)
{
	char path[64], line[256];
	int mode = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Seccomp: %d", &mode) == 1)
			break;
	fclose(f);
	return mode;
}

static void round_trip(int to, int from, unsigned char c)
{
	unsigned char got = 0;

	wl_put(to, &c, 1);
	WL_CHECK(!wl_get(from, &got, 1) && got == c + 1, "the child echoed %#x for %#x", got, c);
}

int main(void)
{
	int to_child[2], from_child[2], status;
	pid_t child;

	wl_init();
	if (pipe(to_child) || pipe(from_child))
		return 2;
	child = fork();
	if (child < 0)
		return 2;
	if (!child) {
		close(to_child[1]);
		close(from_child[0]);
		child_echo(to_child[0], from_child[1]);
	}
	close(to_child[0]);
	close(from_child[1]);
	round_trip(to_child[1], from_child[0], 'a');
	WL_CHECK(seccomp_mode_of(child) == 1, "the child's seccomp mode is %d before checkpoint",
		 seccomp_mode_of(child));
	wl_ready();
	wl_wait_verify();

	WL_CHECK(seccomp_mode_of(child) == 1, "the child's seccomp mode is %d after restart",
		 seccomp_mode_of(child));
	round_trip(to_child[1], from_child[0], 'x');
	wl_put(to_child[1], "q", 1);
	WL_CHECK(waitpid(child, &status, 0) == child, "waitpid: %s", strerror(errno));
	WL_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		 "the child's getpid() did not kill it (status %#x): strict mode is gone", status);
	return wl_finish();
}
