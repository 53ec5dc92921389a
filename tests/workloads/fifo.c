// SPDX-License-Identifier: GPL-2.0
/*
 * Named pipes keep their data and stay the named pipe. In the working
 * directory, FIFO fifo-PID.a is open twice, O_RDONLY | O_NONBLOCK and
 * O_WRONLY, holding 1000 unread bytes; FIFO fifo-PID.b is open O_RDWR
 * holding 100 bytes, and unlinked.
 *
 * After restart both ends of a keep their modes and are one FIFO, the
 * one at the path: reading gives the same 1000 bytes, more writes come
 * through, and so does a write by a new open of the path. b, without a
 * link, gives its 100 bytes and still carries data both ways.
 *
 * b has mode 0640, which restart must give the FIFO it makes anew.
 *
 * CR_FIFO_NAMED_ONLY=1 leaves b out. CR_CORRUPT=1 reads a byte out of a
 * before verifying.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "workload.h"

static void pattern(char *buf, int len, int salt)
{
	for (int i = 0; i < len; i++)
		buf[i] = (char)(i * 13 + i / 256 + salt);
}

/* Everything @fd (O_NONBLOCK) holds, up to @size bytes. */
static ssize_t drain(int fd, char *buf, size_t size)
{
	ssize_t n, got = 0;

	while ((size_t)got < size && (n = read(fd, buf + got, size - got)) > 0)
		got += n;
	return got;
}

int main(void)
{
	char a_path[64], b_path[64], a_data[1000], b_data[100], buf[2048];
	struct stat st_r, st_w, st_path, st_b;
	const char *named_only = getenv("CR_FIFO_NAMED_ONLY");
	bool with_b = !(named_only && *named_only == '1');
	int r, w, rw = -1, again, flags;
	ssize_t got;

	wl_init();
	snprintf(a_path, sizeof(a_path), "fifo-%d.a", getpid());
	snprintf(b_path, sizeof(b_path), "fifo-%d.b", getpid());
	if (mkfifo(a_path, 0600) || mkfifo(b_path, 0600) || chmod(b_path, 0640))
		return printf("FAIL: setup: mkfifo: %s\n", strerror(errno)), 1;
	r = open(a_path, O_RDONLY | O_NONBLOCK);
	w = open(a_path, O_WRONLY);
	if (with_b)
		rw = open(b_path, O_RDWR);
	pattern(a_data, sizeof(a_data), 1);
	pattern(b_data, sizeof(b_data), 2);
	if (r < 0 || w < 0 || (with_b && rw < 0) || write(w, a_data, sizeof(a_data)) != sizeof(a_data) ||
	    (with_b && write(rw, b_data, sizeof(b_data)) != sizeof(b_data)))
		return printf("FAIL: setup: %s\n", strerror(errno)), 1;
	unlink(b_path);
	printf("fifo a %s: read fd %d, write fd %d; b (unlinked) fd %d\n", a_path, r, w, rw);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		read(r, buf, 1);
	flags = fcntl(r, F_GETFL);
	WL_CHECK((flags & O_ACCMODE) == O_RDONLY && (flags & O_NONBLOCK),
		 "a's read end has flags %#x, expected O_RDONLY | O_NONBLOCK", flags);
	flags = fcntl(w, F_GETFL);
	WL_CHECK((flags & O_ACCMODE) == O_WRONLY && !(flags & O_NONBLOCK),
		 "a's write end has flags %#x, expected O_WRONLY", flags);
	WL_CHECK(!fstat(r, &st_r) && !fstat(w, &st_w) && !stat(a_path, &st_path) &&
		 S_ISFIFO(st_r.st_mode) && st_r.st_ino == st_w.st_ino && st_r.st_ino == st_path.st_ino &&
		 st_r.st_dev == st_path.st_dev,
		 "a's ends are not both the FIFO at %s (inodes %lu, %lu, the path's %lu)", a_path,
		 (unsigned long)st_r.st_ino, (unsigned long)st_w.st_ino, (unsigned long)st_path.st_ino);

	got = drain(r, buf, sizeof(buf));
	WL_CHECK(got == sizeof(a_data) && !memcmp(buf, a_data, sizeof(a_data)),
		 "a held %zd bytes, expected the same %zu", got, sizeof(a_data));
	WL_CHECK(write(w, "more", 4) == 4 && drain(r, buf, sizeof(buf)) == 4 && !memcmp(buf, "more", 4),
		 "a write to a after restart did not come through");
	again = open(a_path, O_WRONLY | O_NONBLOCK);
	WL_CHECK(again >= 0, "opening %s for writing: %s (no reader?)", a_path, strerror(errno));
	WL_CHECK(again >= 0 && write(again, "path", 4) == 4 && drain(r, buf, sizeof(buf)) == 4 &&
		 !memcmp(buf, "path", 4), "a write through a new open of %s did not reach the read end",
		 a_path);

	if (!with_b) {
		unlink(a_path);
		return wl_finish();
	}
	flags = fcntl(rw, F_GETFL);
	WL_CHECK((flags & O_ACCMODE) == O_RDWR && !(flags & O_NONBLOCK),
		 "b has flags %#x, expected O_RDWR", flags);
	WL_CHECK(!fstat(rw, &st_b) && S_ISFIFO(st_b.st_mode) && st_b.st_nlink == 0,
		 "b is not an unlinked FIFO (mode %o, %lu links)", st_b.st_mode,
		 (unsigned long)st_b.st_nlink);
	memset(buf, 0, sizeof(buf));
	WL_CHECK(wl_get(rw, buf, sizeof(b_data)) == 0 && !memcmp(buf, b_data, sizeof(b_data)),
		 "b did not give back its 100 bytes");
	fcntl(rw, F_SETFL, O_NONBLOCK);
	WL_CHECK(drain(rw, buf, sizeof(buf)) == 0, "b held more than its 100 bytes");
	WL_CHECK(write(rw, "both ways", 9) == 9 && drain(rw, buf, sizeof(buf)) == 9 &&
		 !memcmp(buf, "both ways", 9), "b no longer carries data");
	unlink(a_path);
	return wl_finish();
}
