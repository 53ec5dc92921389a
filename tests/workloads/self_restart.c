// SPDX-License-Identifier: GPL-2.0
/*
 * A process that restarts itself, and a root parent that says which signal
 * the child's exit sent it.
 *
 *   self_restart UID [SETUP...]
 *
 * The parent P (root) blocks SIGCHLD and SIGUSR2 and forks the child C,
 * then prints "CHILD <pid>" and waits: sigwaitinfo() on {SIGCHLD, SIGUSR2},
 * then waitid(P_PID, C, WEXITED | __WALL). It prints "PARENT GOT SIGCHLD"
 * (or SIGUSR2, or another number) with the siginfo's pid and code, then
 * "CHILD EXITED code=N status=S", and exits 0.
 *
 * C first applies each SETUP, as root:
 *
 *   bset-drop=CAP      prctl(PR_CAPBSET_DROP, CAP)
 *   securebits=BITS    prctl(PR_SET_SECUREBITS, BITS)
 *   inheritable=MASK   capset() with MASK as the inheritable set
 *   nproc=N            RLIMIT_NPROC soft and hard N
 *
 * then, unless UID is 0, drops to UID (no supplementary groups, every uid
 * and gid UID) and makes itself dumpable again (the uid change made it
 * non-dumpable). It prints READY and reads commands on its stdin, one byte
 * at a time so that what follows a command stays in the pipe:
 *
 *   restart PATH  open PATH and call restart(0, fd, 0, 2): the process
 *                 becomes its checkpointed self (back in this read, the
 *                 count below as it was); if the call returns, print
 *                 "RESTART FAILED errno=N" and go on ("OPEN FAILED errno=N"
 *                 if PATH does not open)
 *   ping          print "PONG tried=N pid=P uid=U": N counts the restart
 *                 commands this process ran since the checkpoint was taken,
 *                 so a successful restart shows as tried=0
 *   exit          exit(0)
 *
 * The kernel's explanation of a refused restart goes to fd 2 (the logfd).
 */
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "workload.h"

static int tried;

/* One line of stdin without its newline, at most @size - 1 bytes kept: 0, or -1 at EOF. */
static int read_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(0, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n') {
			buf[n] = 0;
			return 0;
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
}

static void restart_self(const char *path)
{
	int fd, err;
	long ret;

	tried++;
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("OPEN FAILED errno=%d\n", errno);
		return;
	}
	ret = syscall(__NR_restart, 0, fd, 0, 2);
	err = errno;
	close(fd);
	printf("RESTART FAILED errno=%d ret=%ld\n", err, ret);
}

static int set_inheritable(unsigned long long mask)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].inheritable = (unsigned int)mask;
	data[1].inheritable = (unsigned int)(mask >> 32);
	return syscall(SYS_capset, &hdr, data);
}

static int setup(const char *spec)
{
	const char *eq = strchr(spec, '=');
	unsigned long long v = eq ? strtoull(eq + 1, NULL, 0) : 0;
	struct rlimit rl = { v, v };

	if (!eq)
		return -1;
	if (!strncmp(spec, "bset-drop=", 10))
		return prctl(PR_CAPBSET_DROP, v, 0, 0, 0);
	if (!strncmp(spec, "securebits=", 11))
		return prctl(PR_SET_SECUREBITS, v, 0, 0, 0);
	if (!strncmp(spec, "inheritable=", 12))
		return set_inheritable(v);
	if (!strncmp(spec, "nproc=", 6))
		return setrlimit(RLIMIT_NPROC, &rl);
	errno = EINVAL;
	return -1;
}

static int child(uid_t uid, char **setups, int nr_setups)
{
	char line[4200];

	for (int i = 0; i < nr_setups; i++) {
		if (setup(setups[i])) {
			printf("FAIL: setup %s: %s\n", setups[i], strerror(errno));
			return 2;
		}
	}
	if (uid && (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))) {
		printf("FAIL: cannot become uid %u: %s\n", (unsigned int)uid, strerror(errno));
		return 2;
	}
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) {
		printf("FAIL: PR_SET_DUMPABLE: %s\n", strerror(errno));
		return 2;
	}
	wl_ready();
	while (read_line(line, sizeof(line)) == 0) {
		if (!strncmp(line, "restart ", 8))
			restart_self(line + 8);
		else if (!strcmp(line, "ping"))
			printf("PONG tried=%d pid=%d uid=%u\n", tried, (int)getpid(), (unsigned int)getuid());
		else if (!strcmp(line, "exit"))
			exit(0);
		else
			printf("UNKNOWN COMMAND %s\n", line);
	}
	printf("EOF on stdin\n");
	return 3;
}

static const char *signame(int sig)
{
	return sig == SIGCHLD ? "SIGCHLD" : sig == SIGUSR2 ? "SIGUSR2" : "another signal";
}

int main(int argc, char **argv)
{
	sigset_t set, old;
	siginfo_t si, info;
	pid_t c;
	int sig;

	if (argc < 2) {
		fprintf(stderr, "usage: self_restart UID [SETUP...]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	c = fork();
	if (c < 0) {
		printf("FAIL: fork: %s\n", strerror(errno));
		return 1;
	}
	if (c == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return child((uid_t)strtoul(argv[1], NULL, 10), argv + 2, argc - 2);
	}
	printf("CHILD %d\n", (int)c);
	do
		sig = sigwaitinfo(&set, &si);
	while (sig < 0 && errno == EINTR);
	if (sig < 0) {
		printf("FAIL: sigwaitinfo: %s\n", strerror(errno));
		return 1;
	}
	printf("PARENT GOT %s (%d) from pid %d code %d\n", signame(sig), sig, (int)si.si_pid, si.si_code);
	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, c, &info, WEXITED | __WALL)) {
		printf("FAIL: waitid: %s\n", strerror(errno));
		return 1;
	}
	printf("CHILD EXITED code=%d status=%d\n", info.si_code, info.si_status);
	return 0;
}
