// SPDX-License-Identifier: GPL-2.0
/*
 * Open files come back at their offsets with their flags: a half-read file
 * continues where it was, O_APPEND still appends, two fds of one open file
 * still share an offset, FD_CLOEXEC holds, /dev/null, /dev/zero and
 * /dev/urandom work, a directory fd still resolves names, and the working
 * directory and umask are kept.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include "workload.h"

int main(void)
{
	char buf[128], cwd[256];
	int text, app, dup_fd, null_fd, zero_fd, rnd_fd, dir_fd, fd;
	mode_t old_mask;

	wl_init();
	fd = open("/tmp/cr-files-text", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (int i = 0; i < 100; i++)
		dprintf(fd, "line %03d\n", i);	/* 9 bytes a line */
	close(fd);
	text = open("/tmp/cr-files-text", O_RDONLY);
	read(text, buf, 45);			/* five lines */
	dup_fd = dup(text);
	app = open("/tmp/cr-files-append", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	write(app, "first\n", 6);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	zero_fd = open("/dev/zero", O_RDONLY);
	rnd_fd = open("/dev/urandom", O_RDONLY);
	mkdir("/tmp/cr-files-dir", 0755);
	close(open("/tmp/cr-files-dir/inside", O_WRONLY | O_CREAT, 0644));
	dir_fd = open("/tmp/cr-files-dir", O_RDONLY | O_DIRECTORY);
	chdir("/tmp/cr-files-dir");
	umask(027);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		lseek(text, 0, SEEK_SET);
	WL_CHECK(lseek(text, 0, SEEK_CUR) == 45, "offset %ld, expected 45", (long)lseek(text, 0, SEEK_CUR));
	memset(buf, 0, sizeof(buf));
	WL_CHECK(read(text, buf, 9) == 9 && !strcmp(buf, "line 005\n"), "read after restart gave '%s'", buf);
	WL_CHECK(lseek(dup_fd, 0, SEEK_CUR) == 54, "the dup'ed fd does not share the offset");
	/* Someone else grows the file: O_APPEND must still write at the end. */
	fd = open("/tmp/cr-files-append", O_WRONLY);
	pwrite(fd, "0123456789012345678901234567890123456789\n", 41, 6);
	close(fd);
	WL_CHECK(fcntl(app, F_GETFL) & O_APPEND, "O_APPEND is gone");
	write(app, "last\n", 5);
	fd = open("/tmp/cr-files-append", O_RDONLY);
	memset(buf, 0, sizeof(buf));
	WL_CHECK(pread(fd, buf, 5, 47) == 5 && !strcmp(buf, "last\n"), "the append landed elsewhere");
	close(fd);
	WL_CHECK(fcntl(null_fd, F_GETFD) == FD_CLOEXEC, "FD_CLOEXEC lost on /dev/null");
	WL_CHECK(fcntl(text, F_GETFD) == 0, "FD_CLOEXEC appeared on the text file");
	WL_CHECK(write(null_fd, "x", 1) == 1, "/dev/null does not take writes");
	memset(buf, 1, sizeof(buf));
	WL_CHECK(read(zero_fd, buf, 16) == 16 && !buf[0] && !buf[15], "/dev/zero does not read zeros");
	WL_CHECK(read(rnd_fd, buf, 16) == 16, "/dev/urandom does not read");
	fd = openat(dir_fd, "inside", O_RDONLY);
	WL_CHECK(fd >= 0, "openat through the directory fd failed: %s", strerror(errno));
	WL_CHECK(getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, "/tmp/cr-files-dir"), "cwd is %s", cwd);
	old_mask = umask(0);
	WL_CHECK(old_mask == 027, "umask is %o", old_mask);
	return wl_finish();
}
