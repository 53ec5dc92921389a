// SPDX-License-Identifier: GPL-2.0
/*
 * A process and its child holding a file open read-only: victim-PID in
 * the working directory, printed as "victim PATH" (absolute), the child
 * as "child PID". The workload itself does nothing special: it is the
 * test that replaces or appends to the file after the checkpoint, and
 * restart must refuse to reopen another file (or other contents) in its
 * place. Read-only matters: a file open for writing may have grown since
 * the checkpoint, written by the tree itself.
 *
 * Verified without C/R (or after a restart that was right to succeed):
 * both fds still read the original contents, and the file at the path is
 * the open one.
 *
 * CR_CORRUPT=1 replaces the file by a rename before verifying.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "workload.h"

static const char contents[] = "the victim's original contents\n";

static void check(const char *who, int fd, const char *path)
{
	struct stat open_st, path_st;
	char buf[sizeof(contents)] = "";

	WL_CHECK(pread(fd, buf, sizeof(contents) - 1, 0) == sizeof(contents) - 1 &&
		 !strcmp(buf, contents), "%s: the open file reads '%s'", who, buf);
	WL_CHECK(!fstat(fd, &open_st) && !stat(path, &path_st) && open_st.st_ino == path_st.st_ino &&
		 open_st.st_dev == path_st.st_dev,
		 "%s: the file at %s is another than the open one", who, path);
}

int main(void)
{
	char cwd[256], path[512], tmp[600];
	int fd, status;
	pid_t child;

	wl_init();
	if (!getcwd(cwd, sizeof(cwd)))
		return printf("FAIL: setup: getcwd: %s\n", strerror(errno)), 1;
	snprintf(path, sizeof(path), "%s/victim-%d", cwd, getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, contents, sizeof(contents) - 1) != sizeof(contents) - 1)
		return printf("FAIL: setup: %s: %s\n", path, strerror(errno)), 1;
	close(fd);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return printf("FAIL: setup: %s: %s\n", path, strerror(errno)), 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		while (!wl_verify_requested)
			pause();
		check("child", fd, path);
		_exit(wl_failures ? 1 : 0);
	}
	printf("victim %s\n", path);
	printf("child %d\n", child);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt()) {
		int new_fd;

		snprintf(tmp, sizeof(tmp), "%s.new", path);
		new_fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		write(new_fd, contents, sizeof(contents) - 1);
		close(new_fd);
		rename(tmp, path);
	}
	kill(child, SIGUSR1);
	check("parent", fd, path);
	WL_CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the child's checks failed (status %#x)", status);
	unlink(path);
	return wl_finish();
}
