// SPDX-License-Identifier: GPL-2.0
/*
 * A process holding an inotify instance with one watch, on IN_CREATE in
 * the directory inotify-PID.d of the working directory. The fd is moved
 * to 10 so that an error naming it is unmistakable; "inotify fd 10" is
 * printed. Checkpoint refuses inotify (EOPNOTSUPP, naming the fd): the
 * test checks that the refusal leaves this process running, and then it
 * verifies itself: a file created in the directory is reported.
 *
 * CR_CORRUPT=1 removes the watch before verifying.
 */
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "workload.h"

#define INOTIFY_FD	10

int main(void)
{
	char dir[64], file[80], buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct inotify_event *ev = (struct inotify_event *)buf;
	int fd, wd;
	ssize_t n;

	wl_init();
	snprintf(dir, sizeof(dir), "inotify-%d.d", getpid());
	snprintf(file, sizeof(file), "%s/created", dir);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0 || mkdir(dir, 0700) ||
	    fcntl(fd, F_DUPFD_CLOEXEC, INOTIFY_FD) != INOTIFY_FD || close(fd))
		return printf("FAIL: setup: %s\n", strerror(errno)), 1;
	fd = INOTIFY_FD;
	wd = inotify_add_watch(fd, dir, IN_CREATE);
	if (wd < 0)
		return printf("FAIL: setup: inotify_add_watch: %s\n", strerror(errno)), 1;
	printf("inotify fd %d\n", fd);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		inotify_rm_watch(fd, wd);
	WL_CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK, "the inotify fd lost O_NONBLOCK");
	WL_CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "the inotify fd lost FD_CLOEXEC");
	n = read(fd, buf, sizeof(buf));
	WL_CHECK(n < 0 && errno == EAGAIN, "an event was waiting before anything happened");
	close(open(file, O_WRONLY | O_CREAT, 0600));
	n = read(fd, buf, sizeof(buf));
	WL_CHECK(n >= (ssize_t)sizeof(*ev) && ev->wd == wd && (ev->mask & IN_CREATE) &&
		 ev->len && !strcmp(ev->name, "created"),
		 "creating %s was not reported (read %zd, wd %d, mask %#x)", file, n,
		 n > 0 ? ev->wd : -1, n > 0 ? ev->mask : 0);
	unlink(file);
	rmdir(dir);
	return wl_finish();
}
