// SPDX-License-Identifier: GPL-2.0
/*
 * An fd table and an fs_struct (cwd, umask) shared between processes by
 * clone() stay shared after restart.
 *
 * The parent makes two directories, clone_files-PID.d1 and .d2, in its
 * working directory, moves into d1 with umask 022, opens two files there
 * (one to keep, one it will close) and creates two children, each on a
 * stack of its own, neither sharing memory:
 *   A: clone(CLONE_FILES | SIGCHLD), one fd table with the parent,
 *   B: clone(CLONE_FS | SIGCHLD), one cwd and umask with the parent.
 * Both wait for commands on a pipe.
 *
 * After SIGUSR1 (to the parent, which drives the children):
 *   - A opens a new file and reports the fd number: in the parent that fd
 *     must be open on that file (same inode, same /proc/self/fd link);
 *     the parent closes its "close" fd: in A it must be closed too, while
 *     the kept one is still open;
 *   - B moves to d2 and sets umask 077: the parent must find itself in d2
 *     with umask 077; the parent moves back to d1 with umask 027: B must
 *     find itself there.
 * Each child exits 0 only if what it checked held.
 *
 * CR_CORRUPT=1 makes the parent unshare(CLONE_FILES | CLONE_FS): what a
 * restart that lost the sharing would do.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "workload.h"

#define STACK_BYTES	(64 * 1024)

static char stack_a[STACK_BYTES] __attribute__((aligned(16)));
static char stack_b[STACK_BYTES] __attribute__((aligned(16)));

struct chan {
	int cmd[2], reply[2];
};

static struct chan ca, cb;
static char d1[PATH_MAX], d2[PATH_MAX], a_path[PATH_MAX + 16];
static int keep_fd, close_fd;

static int child_a(void *arg)
{
	char c, ok;
	int fd;

	(void)arg;
	wl_put(ca.reply[1], "u", 1);
	if (wl_get(ca.cmd[0], &c, 1) || c != 'o')
		return 1;
	fd = open(a_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "from A\n", 7) != 7)
		wl_fail("A: cannot write %s: %s", a_path, strerror(errno));
	wl_put(ca.reply[1], &fd, sizeof(fd));

	/* The parent closed close_fd: closed here too. */
	if (wl_get(ca.cmd[0], &c, 1) || c != 'c')
		return 1;
	ok = 1;
	if (fcntl(close_fd, F_GETFD) != -1 || errno != EBADF) {
		wl_fail("A: fd %d, closed by the parent, is still open here", close_fd);
		ok = 0;
	}
	if (fcntl(keep_fd, F_GETFD) == -1) {
		wl_fail("A: fd %d, kept by the parent, is closed here", keep_fd);
		ok = 0;
	}
	wl_put(ca.reply[1], &ok, 1);
	return ok ? 0 : 1;
}

static int in_dir(const char *dir)
{
	char cwd[PATH_MAX];

	return getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, dir);
}

static int child_b(void *arg)
{
	char c, ok, cwd[PATH_MAX];
	mode_t mask;

	(void)arg;
	wl_put(cb.reply[1], "u", 1);
	if (wl_get(cb.cmd[0], &c, 1) || c != 'f')
		return 1;
	if (chdir(d2))
		wl_fail("B: chdir %s: %s", d2, strerror(errno));
	umask(077);
	wl_put(cb.reply[1], "k", 1);

	/* The parent went back to d1 with umask 027: so did we. */
	if (wl_get(cb.cmd[0], &c, 1) || c != 'g')
		return 1;
	ok = 1;
	if (!in_dir(d1)) {
		wl_fail("B: the parent moved to %s, B is in %s", d1,
			getcwd(cwd, sizeof(cwd)) ? cwd : strerror(errno));
		ok = 0;
	}
	mask = umask(027);
	if (mask != 027) {
		wl_fail("B: the parent set umask 027, B has %03o", mask);
		ok = 0;
	}
	wl_put(cb.reply[1], &ok, 1);
	return ok ? 0 : 1;
}

static pid_t spawn(int (*fn)(void *), char *stack, int flags, struct chan *ch)
{
	pid_t pid;
	char c;

	if (pipe(ch->cmd) || pipe(ch->reply))
		return -1;
	pid = clone(fn, stack + STACK_BYTES, flags | SIGCHLD, NULL);
	if (pid < 0 || wl_get(ch->reply[0], &c, 1))
		return -1;
	return pid;
}

static void reap(pid_t pid, const char *name)
{
	int status = 0;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("child %s did not pass (status %#x)", name, status);
}

static void check_a(pid_t a)
{
	char link[64], target[PATH_MAX], buf[8] = "", ok = 0;
	struct stat fst, pst;
	ssize_t n;
	int fd = -1;

	wl_put(ca.cmd[1], "o", 1);
	if (wl_get(ca.reply[0], &fd, sizeof(fd)) || fd < 0) {
		wl_fail("A did not open its file (fd %d)", fd);
		kill(a, SIGKILL);
		return;
	}
	if (fstat(fd, &fst)) {
		wl_fail("fd %d, opened by A, is not open in the parent: %s", fd, strerror(errno));
	} else {
		WL_CHECK(!stat(a_path, &pst) && fst.st_ino == pst.st_ino &&
			 fst.st_dev == pst.st_dev,
			 "fd %d, opened by A, is another file in the parent", fd);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		WL_CHECK(!strcmp(target, a_path), "fd %d links to %s in the parent, expected %s",
			 fd, target, a_path);
		WL_CHECK(pread(fd, buf, 7, 0) == 7 && !memcmp(buf, "from A\n", 7),
			 "fd %d does not read what A wrote", fd);
	}

	close(close_fd);
	wl_put(ca.cmd[1], "c", 1);
	if (wl_get(ca.reply[0], &ok, 1) || !ok)
		wl_fail("A still saw fd %d that the parent closed (or did not answer)", close_fd);
	WL_CHECK(fcntl(keep_fd, F_GETFD) != -1, "the parent's fd %d is closed", keep_fd);
}

static void check_b(void)
{
	char c, ok = 0, cwd[PATH_MAX];
	mode_t mask;

	wl_put(cb.cmd[1], "f", 1);
	if (wl_get(cb.reply[0], &c, 1)) {
		wl_fail("B did not answer");
		return;
	}
	WL_CHECK(in_dir(d2), "B moved to %s, the parent is in %s", d2,
		 getcwd(cwd, sizeof(cwd)) ? cwd : strerror(errno));
	mask = umask(027);
	WL_CHECK(mask == 077, "B set umask 077, the parent has %03o", mask);
	if (chdir(d1))
		wl_fail("chdir %s: %s", d1, strerror(errno));
	wl_put(cb.cmd[1], "g", 1);
	if (wl_get(cb.reply[0], &ok, 1) || !ok)
		wl_fail("B did not follow the parent to %s with umask 027 (or did not answer)", d1);
}

int main(void)
{
	char cwd[PATH_MAX / 2], keep_path[PATH_MAX + 8], close_path[PATH_MAX + 8];
	pid_t a, b;

	wl_init();
	if (!getcwd(cwd, sizeof(cwd)))
		return 1;
	snprintf(d1, sizeof(d1), "%s/clone_files-%d.d1", cwd, getpid());
	snprintf(d2, sizeof(d2), "%s/clone_files-%d.d2", cwd, getpid());
	snprintf(a_path, sizeof(a_path), "%s/from-a", d1);
	snprintf(keep_path, sizeof(keep_path), "%s/keep", d1);
	snprintf(close_path, sizeof(close_path), "%s/close", d1);
	if (mkdir(d1, 0755) || mkdir(d2, 0755) || chdir(d1)) {
		printf("FAIL: setup: %s\n", strerror(errno));
		return 1;
	}
	umask(022);
	keep_fd = open(keep_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	close_fd = open(close_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (keep_fd < 0 || close_fd < 0)
		return 1;
	a = spawn(child_a, stack_a, CLONE_FILES, &ca);
	b = spawn(child_b, stack_b, CLONE_FS, &cb);
	if (a < 0 || b < 0) {
		printf("FAIL: clone: %s\n", strerror(errno));
		return 1;
	}
	printf("A %d shares the fd table, B %d the cwd and umask\n", a, b);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt() && unshare(CLONE_FILES | CLONE_FS))
		wl_fail("unshare: %s", strerror(errno));
	WL_CHECK(in_dir(d1), "the parent is no longer in %s", d1);
	WL_CHECK(umask(022) == 022, "the umask is no longer 022");
	check_a(a);
	check_b();
	reap(a, "A");
	reap(b, "B");

	unlink(a_path);
	unlink(keep_path);
	unlink(close_path);
	chdir(cwd);
	rmdir(d1);
	rmdir(d2);
	return wl_finish();
}
