// SPDX-License-Identifier: GPL-2.0
/*
 * A memfd keeps its contents, name, seals and mapping: memfd_create
 * ("cr-test", MFD_ALLOW_SEALING) holding 3 MiB of a pattern, sealed
 * F_SEAL_SHRINK | F_SEAL_GROW, open at offset 4101 and mapped MAP_SHARED.
 *
 * After restart the fd and the mapping both show the same 3 MiB, and are
 * one file: a write through either is seen through the other; the seals
 * are the same, so ftruncate() to shrink or grow fails with EPERM; the fd
 * is still /memfd:cr-test, at its offset. "memfd fd N" is printed.
 *
 * A second memfd ("cr-sealed", 8 KiB, not mapped) is sealed F_SEAL_WRITE |
 * F_SEAL_SEAL: after restart it holds its bytes and still refuses writes
 * and new seals, and its second open (through /proc/self/fd, read-only) is
 * still the same memfd; a third, made without MFD_ALLOW_SEALING and empty, still
 * refuses every seal.
 *
 * CR_CORRUPT=1 flips a byte through the mapping before verifying.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "workload.h"

#define SIZE	(3L << 20)
#define CHUNK	(64 << 10)
#define POS	4101
#define SEALS	(F_SEAL_SHRINK | F_SEAL_GROW)

static unsigned char chunk[CHUNK];

static unsigned char pattern(long off)
{
	return (unsigned char)(off * 11 + (off >> 12) * 71 + (off >> 20));
}

int main(void)
{
	char link[64], target[128] = "";
	volatile unsigned char *map;
	long bad_read = -1, bad_map = -1;
	struct stat st;
	int fd, fd2, fd3, fd2_again, seals;
	struct stat st2;
	char small[8192];

	wl_init();
	fd = memfd_create("cr-test", MFD_ALLOW_SEALING);
	if (fd < 0)
		return printf("FAIL: setup: memfd_create: %s\n", strerror(errno)), 1;
	for (long off = 0; off < SIZE; off += CHUNK) {
		for (int i = 0; i < CHUNK; i++)
			chunk[i] = pattern(off + i);
		if (pwrite(fd, chunk, CHUNK, off) != CHUNK)
			return printf("FAIL: setup: pwrite: %s\n", strerror(errno)), 1;
	}
	if (fcntl(fd, F_ADD_SEALS, SEALS))
		return printf("FAIL: setup: F_ADD_SEALS: %s\n", strerror(errno)), 1;
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return printf("FAIL: setup: mmap: %s\n", strerror(errno)), 1;
	lseek(fd, POS, SEEK_SET);
	fd2 = memfd_create("cr-sealed", MFD_ALLOW_SEALING);
	fd3 = memfd_create("", 0);
	for (int i = 0; i < (int)sizeof(small); i++)
		small[i] = (char)(i * 7 + 3);
	if (fd2 < 0 || fd3 < 0 || write(fd2, small, sizeof(small)) != sizeof(small) ||
	    fcntl(fd2, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL))
		return printf("FAIL: setup: the sealed memfds: %s\n", strerror(errno)), 1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd2);
	fd2_again = open(link, O_RDONLY);
	if (fd2_again < 0)
		return printf("FAIL: setup: reopening cr-sealed: %s\n", strerror(errno)), 1;
	printf("memfd fd %d\n", fd);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		map[12345] ^= 0xff;
	seals = fcntl(fd, F_GET_SEALS);
	WL_CHECK(seals == SEALS, "seals %#x, expected %#x", seals, SEALS);
	WL_CHECK(!fstat(fd, &st) && st.st_size == SIZE, "size %lld, expected %ld",
		 (long long)st.st_size, SIZE);
	WL_CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "the memfd is no longer O_RDWR");
	WL_CHECK(lseek(fd, 0, SEEK_CUR) == POS, "offset %lld, expected %d",
		 (long long)lseek(fd, 0, SEEK_CUR), POS);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	WL_CHECK(readlink(link, target, sizeof(target) - 1) > 0 &&
		 !strcmp(target, "/memfd:cr-test (deleted)"), "the fd is %s, not /memfd:cr-test", target);

	for (long off = 0; off < SIZE && bad_read < 0; off += CHUNK) {
		if (pread(fd, chunk, CHUNK, off) != CHUNK) {
			bad_read = off;
			break;
		}
		for (int i = 0; i < CHUNK; i++)
			if (chunk[i] != pattern(off + i)) {
				bad_read = off + i;
				break;
			}
	}
	WL_CHECK(bad_read < 0, "read: the contents differ from offset %ld", bad_read);
	for (long off = 0; off < SIZE; off++)
		if (map[off] != pattern(off)) {
			bad_map = off;
			break;
		}
	WL_CHECK(bad_map < 0, "the mapping differs from offset %ld", bad_map);

	errno = 0;
	WL_CHECK(ftruncate(fd, SIZE / 3) < 0 && errno == EPERM,
		 "shrinking the sealed memfd did not fail with EPERM (%s)", strerror(errno));
	errno = 0;
	WL_CHECK(ftruncate(fd, SIZE * 2) < 0 && errno == EPERM,
		 "growing the sealed memfd did not fail with EPERM (%s)", strerror(errno));

	seals = fcntl(fd2, F_GET_SEALS);
	WL_CHECK(seals == (F_SEAL_WRITE | F_SEAL_SEAL), "cr-sealed has seals %#x", seals);
	memset(chunk, 0, sizeof(small));
	WL_CHECK(pread(fd2, chunk, sizeof(small) + 1, 0) == sizeof(small) &&
		 !memcmp(chunk, small, sizeof(small)), "cr-sealed lost its 8 KiB");
	errno = 0;
	WL_CHECK(pwrite(fd2, "x", 1, 0) < 0 && errno == EPERM,
		 "a write to the write-sealed memfd did not fail with EPERM (%s)", strerror(errno));
	errno = 0;
	WL_CHECK(fcntl(fd2, F_ADD_SEALS, F_SEAL_GROW) < 0 && errno == EPERM,
		 "cr-sealed accepted a new seal after F_SEAL_SEAL (%s)", strerror(errno));
	WL_CHECK(!fstat(fd2, &st) && !fstat(fd2_again, &st2) && st.st_ino == st2.st_ino,
		 "cr-sealed's second open is another file");
	WL_CHECK((fcntl(fd2_again, F_GETFL) & O_ACCMODE) == O_RDONLY &&
		 fcntl(fd2_again, F_GET_SEALS) == (F_SEAL_WRITE | F_SEAL_SEAL),
		 "cr-sealed's second open: flags %#x, seals %#x", fcntl(fd2_again, F_GETFL),
		 fcntl(fd2_again, F_GET_SEALS));
	seals = fcntl(fd3, F_GET_SEALS);
	WL_CHECK(seals == F_SEAL_SEAL, "the memfd made without MFD_ALLOW_SEALING has seals %#x", seals);
	WL_CHECK(!fstat(fd3, &st) && st.st_size == 0, "the empty memfd has %lld bytes",
		 (long long)st.st_size);

	/* One file behind the fd and the mapping. */
	map[SIZE - 100] = 'M';
	WL_CHECK(pread(fd, chunk, 1, SIZE - 100) == 1 && chunk[0] == 'M',
		 "a write through the mapping is not seen through the fd");
	WL_CHECK(pwrite(fd, "F", 1, 100) == 1 && map[100] == 'F',
		 "a write through the fd is not seen through the mapping");
	return wl_finish();
}
