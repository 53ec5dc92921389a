// SPDX-License-Identifier: GPL-2.0
/*
 * One open file description shared by a parent and its forked child keeps
 * one offset after restart, and separately opened descriptions of the same
 * file keep offsets of their own.
 *
 * The parent opens shared_offset-PID.dat in its working directory
 * (O_RDWR, no O_APPEND), writes 4 records of 16 bytes and forks; the child
 * writes 4 more through the same fd: the shared offset is 128. Each also
 * opens the file a second time and reads a little: the parent's private fd
 * is at 10, the child's at 20 (the fds are printed for the test to look
 * at). The child then waits for commands on a pipe.
 *
 * After SIGUSR1 (to the parent, which passes commands on): the child
 * writes 5 records and reports its offset, 208; the parent's must be 208
 * too, its private fd still at 10 (and a read there moves only it). The
 * parent writes a record; the child must find its offset at 224 and its
 * own private fd still at 20. The file must hold all 14 records in order.
 *
 * CR_CORRUPT=1 makes the parent's fd a new open of the file at the same
 * offset: what a restart that lost the sharing would do.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/wait.h>

#include "workload.h"

#define REC		16

static int fd, cmd[2], reply[2];
static char path[64];

/* Record @n of @who: exactly REC bytes. */
static void record(char *buf, char who, int n)
{
	char tmp[REC + 1];

	snprintf(tmp, sizeof(tmp), "%c%014d\n", who, n);
	memcpy(buf, tmp, REC);
}

static int write_records(char who, int first, int count)
{
	char buf[REC];

	for (int n = first; n < first + count; n++) {
		record(buf, who, n);
		if (write(fd, buf, REC) != REC)
			return -1;
	}
	return 0;
}

static off_t offset(int f)
{
	return lseek(f, 0, SEEK_CUR);
}

static int child(void)
{
	char c, buf[32];
	int64_t off;
	int priv, ok = 1;

	close(cmd[1]);
	close(reply[0]);
	if (write_records('C', 0, 4))
		return 1;
	priv = open(path, O_RDONLY);
	if (priv < 0 || read(priv, buf, 20) != 20)
		return 1;
	printf("child private fd %d\n", priv);
	wl_put(reply[1], "w", 1);

	/* After restart: write 5 records, report the offset. */
	if (wl_get(cmd[0], &c, 1) || c != 'w')
		return 1;
	if (write_records('C', 4, 5))
		return 1;
	off = offset(fd);
	wl_put(reply[1], &off, sizeof(off));

	/* The parent wrote one record: our offset moved with it. */
	if (wl_get(cmd[0], &c, 1) || c != 'c')
		return 1;
	if (offset(fd) != 14 * REC) {
		wl_fail("child: offset %ld after the parent's write, expected %d", (long)offset(fd),
			14 * REC);
		ok = 0;
	}
	if (offset(priv) != 20) {
		wl_fail("child: private fd at %ld, expected 20", (long)offset(priv));
		ok = 0;
	}
	return ok ? 0 : 1;
}

int main(void)
{
	char buf[REC], want[REC], c;
	int64_t child_off;
	int priv, status;
	pid_t pid;

	wl_init();
	snprintf(path, sizeof(path), "shared_offset-%d.dat", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || pipe(cmd) || pipe(reply)) {
		printf("FAIL: setup: %s\n", strerror(errno));
		return 1;
	}
	if (write_records('P', 0, 4))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		exit(child());
	close(cmd[0]);
	close(reply[1]);
	if (wl_get(reply[0], &c, 1)) {
		printf("FAIL: the child did not write its records\n");
		return 1;
	}
	priv = open(path, O_RDONLY);
	if (priv < 0 || read(priv, buf, 10) != 10)
		return 1;
	if (offset(fd) != 8 * REC) {
		printf("FAIL: before checkpoint the shared offset is %ld, not %d\n",
		       (long)offset(fd), 8 * REC);
		return 1;
	}
	printf("child %d, shared fd %d, private fd %d\n", pid, fd, priv);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt()) {
		int again = open(path, O_RDWR);

		lseek(again, offset(fd), SEEK_SET);
		dup2(again, fd);
		close(again);
	}
	WL_CHECK(offset(fd) == 8 * REC, "shared offset %ld after restart, expected %d",
		 (long)offset(fd), 8 * REC);
	WL_CHECK(offset(priv) == 10, "private fd at %ld after restart, expected 10",
		 (long)offset(priv));

	wl_put(cmd[1], "w", 1);
	if (wl_get(reply[0], &child_off, sizeof(child_off))) {
		wl_fail("the child did not report its write");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	WL_CHECK(child_off == 13 * REC, "the child's offset is %lld after its write, expected %d",
		 (long long)child_off, 13 * REC);
	WL_CHECK(offset(fd) == 13 * REC,
		 "the child wrote %d bytes, the parent's offset is %ld, expected %d", 5 * REC,
		 (long)offset(fd), 13 * REC);
	WL_CHECK(offset(priv) == 10, "the child's write moved the private fd to %ld",
		 (long)offset(priv));
	WL_CHECK(read(priv, buf, REC) == REC && offset(priv) == 10 + REC && offset(fd) == 13 * REC,
		 "a read on the private fd: private at %ld, shared at %ld", (long)offset(priv),
		 (long)offset(fd));

	if (write_records('P', 4, 1))
		wl_fail("parent: write: %s", strerror(errno));
	wl_put(cmd[1], "c", 1);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("the child did not pass (status %#x)", status);

	/* P0..P3 C0..C3 C4..C8 P4, each exactly where the shared offset put it. */
	for (int i = 0; i < 14; i++) {
		char who = i < 4 ? 'P' : i < 13 ? 'C' : 'P';
		int n = i < 4 ? i : i < 13 ? i - 4 : 4;

		record(want, who, n);
		if (pread(priv, buf, REC, (off_t)i * REC) != REC || memcmp(buf, want, REC)) {
			wl_fail("record %d of the file is not %c%d", i, who, n);
			break;
		}
	}
	unlink(path);
	return wl_finish();
}
