// SPDX-License-Identifier: GPL-2.0
/*
 * A process of an unprivileged user holding open a file only root may read,
 * whose name is gone.
 *
 *   unlinked_secret PATH UID SIZE
 *
 * Started as root: opens PATH (root's, mode 0600, SIZE bytes) O_RDONLY,
 * unlinks it, drops to UID (no supplementary groups, every uid and gid
 * UID, no capability left) and makes itself dumpable again, so that UID
 * may checkpoint it. It then checks that it could not open the file again
 * itself (through /proc/self/fd, which checks the inode's permissions:
 * EACCES) and prints "reopen as uid UID: errno N" and READY. It reads
 * nothing of the file before SIGUSR1: the contents are in no page of its
 * memory, only in the file.
 *
 * On SIGUSR1 it checks that its fd still reads the whole file, unlinked,
 * root's, mode 0600, and that it is still UID; then PASS (exit 0) or FAIL.
 *
 * CR_CORRUPT=1 closes the fd before verifying.
 */
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "workload.h"

int main(int argc, char **argv)
{
	char proc_path[64], buf[4096];
	long long size, total = 0;
	struct stat st;
	uid_t uid;
	int fd, again, err;
	ssize_t n;

	if (argc != 4) {
		fprintf(stderr, "usage: unlinked_secret PATH UID SIZE\n");
		return 2;
	}
	uid = (uid_t)strtoul(argv[2], NULL, 10);
	size = strtoll(argv[3], NULL, 10);
	wl_init();
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || unlink(argv[1])) {
		printf("FAIL: open and unlink %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid)) {
		printf("FAIL: cannot become uid %u: %s\n", (unsigned int)uid, strerror(errno));
		return 1;
	}
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) {
		printf("FAIL: PR_SET_DUMPABLE: %s\n", strerror(errno));
		return 1;
	}
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	again = open(proc_path, O_RDONLY);
	err = again < 0 ? errno : 0;
	if (again >= 0)
		close(again);
	printf("reopen as uid %u: errno %d\n", (unsigned int)uid, err);
	printf("secret fd %d\n", fd);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		close(fd);
	WL_CHECK(getuid() == uid && geteuid() == uid, "uid %u euid %u, expected %u", (unsigned int)getuid(),
		 (unsigned int)geteuid(), (unsigned int)uid);
	if (fstat(fd, &st)) {
		wl_fail("fstat of the secret fd %d: %s", fd, strerror(errno));
		return wl_finish();
	}
	WL_CHECK(st.st_nlink == 0, "the file has %lu links, expected 0 (unlinked)", (unsigned long)st.st_nlink);
	WL_CHECK(st.st_uid == 0 && (st.st_mode & 07777) == 0600, "the file is uid %u mode %#o, expected root's 0600",
		 (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
	WL_CHECK(st.st_size == size, "the file has %lld bytes, expected %lld", (long long)st.st_size, size);
	while ((n = pread(fd, buf, sizeof(buf), total)) > 0)
		total += n;
	WL_CHECK(n == 0 && total == size, "read %lld bytes of %lld through the fd (%s)", total, size,
		 n < 0 ? strerror(errno) : "end of file");
	return wl_finish();
}
