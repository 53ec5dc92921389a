// SPDX-License-Identifier: GPL-2.0
/*
 * Open files whose names are gone come back whole. In the working
 * directory, named unlinked-PID.{a,b,c}, then unlinked:
 *
 *  a: 5 MiB of a pattern, open O_RDWR at offset 1234, and opened a second
 *     time (through /proc/self/fd, not dup'ed) O_RDONLY at offset 99;
 *  b: a sparse file of 2 GiB holding 1 MiB of data: 256 KiB at 0, 512 KiB
 *     at 1 GiB and 256 KiB at the end, open O_RDONLY at offset 777;
 *  c: 64 KiB mapped MAP_SHARED by the parent and a forked child, its fds
 *     closed: only the mappings keep it.
 *
 * After restart a has the same bytes, size, offset and access mode, no
 * link, and still takes writes; its second open is the same inode, with its
 * own offset and mode, and sees those writes; b is 2 GiB with the same data ranges
 * (SEEK_DATA/SEEK_HOLE: holes stay holes) and its data intact; c is one
 * file for both: a write by the child through its mapping is seen by the
 * parent and the other way round, and /proc/self/maps shows it
 * "(deleted)" in both. "unlinked ready: ..." is printed with the details.
 *
 * CR_CORRUPT=1 moves a's offset to 0 and replaces the parent's mapping of
 * c by a private copy before verifying.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "workload.h"

#define KiB		(1L << 10)
#define MiB		(1L << 20)
#define GiB		(1L << 30)
#define A_SIZE		(5 * MiB)
#define A_POS		1234
#define B_SIZE		(2 * GiB)
#define B_POS		777
#define C_SIZE		(64 * KiB)
#define CHUNK		(64 * KiB)

struct range {
	off_t start, len;
};

static const struct range b_data[] = {
	{ 0, 256 * KiB }, { 1 * GiB, 512 * KiB }, { B_SIZE - 256 * KiB, 256 * KiB },
};
#define B_RANGES	((int)(sizeof(b_data) / sizeof(b_data[0])))

static unsigned char chunk[CHUNK];
static volatile unsigned char *c_map;
static int to_child[2], to_parent[2];

/* The byte at @off of a file salted @salt: not periodic in 256 or 4096. */
static unsigned char pattern(off_t off, int salt)
{
	return (unsigned char)(off * 7 + (off >> 12) * 131 + (off >> 20) * 17 + salt);
}

static int fill(int fd, off_t start, off_t len, int salt)
{
	for (off_t off = start; off < start + len; off += CHUNK) {
		size_t n = start + len - off < CHUNK ? start + len - off : CHUNK;

		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(off + i, salt);
		if (pwrite(fd, chunk, n, off) != (ssize_t)n)
			return -1;
	}
	return 0;
}

/* The first offset in [start, start + len) not holding the pattern, or -1. */
static off_t first_difference(int fd, off_t start, off_t len, int salt)
{
	for (off_t off = start; off < start + len; off += CHUNK) {
		size_t n = start + len - off < CHUNK ? start + len - off : CHUNK;

		if (pread(fd, chunk, n, off) != (ssize_t)n)
			return off;
		for (size_t i = 0; i < n; i++)
			if (chunk[i] != pattern(off + i, salt))
				return off + i;
	}
	return -1;
}

/* The data ranges of @fd as SEEK_DATA/SEEK_HOLE see them; moves its offset. */
static int data_map(int fd, off_t size, struct range *out, int max)
{
	off_t pos = 0;
	int n = 0;

	while (pos < size && n < max) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = size;
		out[n].start = data;
		out[n].len = hole - data;
		n++;
		pos = hole;
	}
	return n;
}

static int same_map(const struct range *map, int n)
{
	if (n != B_RANGES)
		return 0;
	for (int i = 0; i < n; i++)
		if (map[i].start != b_data[i].start || map[i].len != b_data[i].len)
			return 0;
	return 1;
}

static void print_map(const char *what, const struct range *map, int n)
{
	printf("%s:", what);
	for (int i = 0; i < n; i++)
		printf(" [%lld, +%lld KiB)", (long long)map[i].start, (long long)map[i].len / KiB);
	printf("\n");
}

/* Is the mapping at @addr shown as a deleted file in /proc/self/maps? */
static int mapped_deleted(volatile void *addr, char *line, size_t size)
{
	char start[32];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	snprintf(start, sizeof(start), "%lx-", (unsigned long)addr);
	line[0] = 0;
	while (f && fgets(line, size, f))
		if (!strncmp(line, start, strlen(start))) {
			found = 1;
			break;
		}
	if (f)
		fclose(f);
	if (!found)
		snprintf(line, size, "(no mapping at %p)", addr);
	line[strcspn(line, "\n")] = 0;
	return found && strstr(line, "(deleted)");
}

/* Does c hold its pattern, but for the 64 bytes at @skip? */
static int c_pattern_ok(off_t skip)
{
	for (off_t i = 0; i < C_SIZE; i++) {
		if (i >= skip && i < skip + 64)
			continue;
		if (c_map[i] != pattern(i, 3))
			return 0;
	}
	return 1;
}

static int child_main(void)
{
	char line[512], c;

	while (!wl_verify_requested)
		pause();
	if (wl_get(to_child[0], &c, 1) || c != 'w') {
		wl_fail("child: no word from the parent");
		return 1;
	}
	WL_CHECK(c_pattern_ok(C_SIZE), "child: c's pattern is gone");
	WL_CHECK(mapped_deleted(c_map, line, sizeof(line)),
		 "child: c is not mapped as a deleted file: %s", line);
	memcpy((void *)(c_map + 100), "child was here", 15);
	wl_put(to_parent[1], "c", 1);
	if (wl_get(to_child[0], &c, 1) || c != 'p') {
		wl_fail("child: no second word from the parent");
		return 1;
	}
	WL_CHECK(!memcmp((void *)(c_map + 200), "parent too", 11),
		 "child: does not see the parent's write to c");
	return wl_failures ? 1 : 0;
}

int main(void)
{
	char name[3][64], line[512], c;
	struct range map[8];
	struct stat st;
	int a, a2, b, cfd, n, status;
	char a_link[64];
	struct stat st2;
	off_t diff;
	pid_t child;

	wl_init();
	for (int i = 0; i < 3; i++)
		snprintf(name[i], sizeof(name[i]), "unlinked-%d.%c", getpid(), 'a' + i);
	a = open(name[0], O_RDWR | O_CREAT | O_TRUNC, 0600);
	b = open(name[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	cfd = open(name[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (a < 0 || b < 0 || cfd < 0 || pipe(to_child) || pipe(to_parent))
		return printf("FAIL: setup: %s\n", strerror(errno)), 1;

	if (fill(a, 0, A_SIZE, 1) || lseek(a, A_POS, SEEK_SET) != A_POS)
		return printf("FAIL: setup: writing a: %s\n", strerror(errno)), 1;
	snprintf(a_link, sizeof(a_link), "/proc/self/fd/%d", a);
	a2 = open(a_link, O_RDONLY);
	if (a2 < 0 || lseek(a2, 99, SEEK_SET) != 99)
		return printf("FAIL: setup: a second open of a: %s\n", strerror(errno)), 1;

	/* b is written through an O_RDWR fd, then kept open read-only. */
	if (ftruncate(b, B_SIZE))
		return printf("FAIL: setup: a 2 GiB b: %s\n", strerror(errno)), 1;
	for (int i = 0; i < B_RANGES; i++)
		if (fill(b, b_data[i].start, b_data[i].len, 2))
			return printf("FAIL: setup: writing b: %s\n", strerror(errno)), 1;
	fsync(b);
	close(b);
	b = open(name[1], O_RDONLY);
	n = data_map(b, B_SIZE, map, 8);
	if (!same_map(map, n)) {
		print_map("b's data ranges", map, n);
		return printf("FAIL: setup: the working directory's filesystem does not keep b's holes\n"), 1;
	}
	lseek(b, B_POS, SEEK_SET);

	if (fill(cfd, 0, C_SIZE, 3))
		return printf("FAIL: setup: writing c: %s\n", strerror(errno)), 1;
	c_map = mmap(NULL, C_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	if (c_map == MAP_FAILED)
		return printf("FAIL: setup: mmap c: %s\n", strerror(errno)), 1;
	close(cfd);
	for (int i = 0; i < 3; i++)
		unlink(name[i]);

	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		close(a);
		close(a2);
		close(b);
		_exit(child_main());
	}
	printf("unlinked ready: a fd %d, 5 MiB at offset %d; b fd %d, 2 GiB with 1 MiB of data at offset %d; "
	       "c 64 KiB mapped at %p; child %d\n", a, A_POS, b, B_POS, (void *)c_map, child);
	wl_ready();
	wl_wait_verify();

	kill(child, SIGUSR1);
	if (wl_corrupt()) {
		void *copy = mmap(NULL, C_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		lseek(a, 0, SEEK_SET);
		memcpy(copy, (void *)c_map, C_SIZE);
		mremap(copy, C_SIZE, C_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)c_map);
	}

	/* a */
	WL_CHECK(fstat(a, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == A_SIZE && st.st_nlink == 0,
		 "a: mode %o, size %lld, %lu links; expected a regular file of %ld bytes, no link",
		 st.st_mode, (long long)st.st_size, (unsigned long)st.st_nlink, A_SIZE);
	WL_CHECK((fcntl(a, F_GETFL) & O_ACCMODE) == O_RDWR, "a is no longer O_RDWR (flags %#x)",
		 fcntl(a, F_GETFL));
	WL_CHECK(lseek(a, 0, SEEK_CUR) == A_POS, "a: offset %lld, expected %d",
		 (long long)lseek(a, 0, SEEK_CUR), A_POS);
	diff = first_difference(a, 0, A_SIZE, 1);
	WL_CHECK(diff < 0, "a: its bytes differ from offset %lld", (long long)diff);
	lseek(a, A_POS, SEEK_SET);
	memset(line, 0, sizeof(line));
	WL_CHECK(write(a, "written", 7) == 7 && lseek(a, 0, SEEK_CUR) == A_POS + 7 &&
		 pread(a, line, 7, A_POS) == 7 && !strcmp(line, "written"),
		 "a: a write at its offset did not land there (%s)", strerror(errno));
	WL_CHECK(fstat(a2, &st2) == 0 && fstat(a, &st) == 0 && st2.st_ino == st.st_ino &&
		 st2.st_dev == st.st_dev, "a's second open is another inode than a");
	WL_CHECK((fcntl(a2, F_GETFL) & O_ACCMODE) == O_RDONLY && lseek(a2, 0, SEEK_CUR) == 99,
		 "a's second open: flags %#x, offset %lld; expected O_RDONLY at 99",
		 fcntl(a2, F_GETFL), (long long)lseek(a2, 0, SEEK_CUR));
	memset(line, 0, 8);
	WL_CHECK(pread(a2, line, 7, A_POS) == 7 && !strcmp(line, "written"),
		 "a's second open does not see a write through a");

	/* b */
	WL_CHECK(fstat(b, &st) == 0 && st.st_size == B_SIZE && st.st_nlink == 0,
		 "b: size %lld, %lu links; expected %ld bytes, no link", (long long)st.st_size,
		 (unsigned long)st.st_nlink, B_SIZE);
	WL_CHECK((fcntl(b, F_GETFL) & O_ACCMODE) == O_RDONLY, "b is no longer O_RDONLY");
	WL_CHECK(lseek(b, 0, SEEK_CUR) == B_POS, "b: offset %lld, expected %d",
		 (long long)lseek(b, 0, SEEK_CUR), B_POS);
	n = data_map(b, B_SIZE, map, 8);
	if (!same_map(map, n)) {
		print_map("b's data ranges", map, n);
		wl_fail("b: its data ranges changed: holes filled or data lost");
	}
	for (int i = 0; i < B_RANGES; i++) {
		diff = first_difference(b, b_data[i].start, b_data[i].len, 2);
		WL_CHECK(diff < 0, "b: its bytes differ from offset %lld", (long long)diff);
	}
	memset(chunk, 1, 4096);
	WL_CHECK(pread(b, chunk, 4096, 512 * MiB) == 4096 && !chunk[0] && !memcmp(chunk, chunk + 1, 4095),
		 "b: its hole at 512 MiB does not read as zeros");

	/* c, shared with the child */
	WL_CHECK(c_pattern_ok(C_SIZE), "parent: c's pattern is gone");
	WL_CHECK(mapped_deleted(c_map, line, sizeof(line)),
		 "parent: c is not mapped as a deleted file: %s", line);
	wl_put(to_child[1], "w", 1);
	if (wl_get(to_parent[0], &c, 1) == 0) {
		WL_CHECK(!memcmp((void *)(c_map + 100), "child was here", 15),
			 "parent: does not see the child's write to c");
		WL_CHECK(c_pattern_ok(100), "parent: c's pattern changed beyond the child's write");
	} else {
		wl_fail("parent: no word from the child");
	}
	memcpy((void *)(c_map + 200), "parent too", 11);
	wl_put(to_child[1], "p", 1);
	WL_CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the child's checks failed (status %#x)", status);
	return wl_finish();
}
