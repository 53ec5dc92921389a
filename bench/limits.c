// SPDX-License-Identifier: GPL-2.0
/*
 * bench-limits: the bandwidth ceilings a checkpoint of N MiB runs into, in
 * the VM the benchmarks run in, each the best of --reps runs.
 *
 *   bench-limits --mb N --dir DIR [--reps 3]
 *
 * memcpy        copy N MiB between two buffers already faulted in
 * write-1m      write(2) N MiB from memory into a new file in DIR, 1 MiB a call
 * write-8m      the same, 8 MiB a call
 * uring-1m      the same through io_uring, 1 MiB writes, 8 in flight
 * read-fresh    read(2) N MiB from a file in DIR into memory never touched
 *               before (page faults and zeroing included): what a restart
 *               that reads its image into new anonymous memory runs into
 *
 * The writes start from an empty file, as an image does: tmpfs allocating
 * its pages is part of the cost. Prints one JSON object.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-limits: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void *region(size_t len, int touch)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	if (touch)
		for (size_t i = 0; i < len; i += 8)
			*(uint64_t *)((char *)p + i) = (i + 1) * 0x9E3779B97F4A7C15ULL;
	return p;
}

static int new_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		die(path);
	return fd;
}

static double do_write(const char *path, const char *src, size_t len, size_t chunk)
{
	int fd = new_file(path);
	double t0 = now();

	for (size_t off = 0; off < len;) {
		size_t n = len - off < chunk ? len - off : chunk;
		ssize_t w = write(fd, src + off, n);

		if (w <= 0)
			die("write");
		off += w;
	}
	double t = now() - t0;
	close(fd);
	unlink(path);
	return t;
}

static double do_uring(const char *path, const char *src, size_t len, size_t chunk, unsigned depth)
{
	struct io_uring ring;
	int fd = new_file(path);
	size_t off = 0;
	unsigned inflight = 0;

	if (io_uring_queue_init(depth, &ring, 0))
		die("io_uring_queue_init");
	double t0 = now();
	while (off < len || inflight) {
		while (off < len && inflight < depth) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			size_t n = len - off < chunk ? len - off : chunk;

			io_uring_prep_write(sqe, fd, src + off, n, off);
			off += n;
			inflight++;
		}
		io_uring_submit(&ring);
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&ring, &cqe))
			die("io_uring_wait_cqe");
		if (cqe->res < 0) {
			errno = -cqe->res;
			die("io_uring write");
		}
		if ((size_t)cqe->res != chunk && off < len) {
			errno = EIO;
			die("short io_uring write");
		}
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
	}
	double t = now() - t0;
	io_uring_queue_exit(&ring);
	close(fd);
	unlink(path);
	return t;
}

static double do_read_fresh(const char *path, size_t len)
{
	int fd = open(path, O_RDONLY);
	char *dst = region(len, 0);
	double t0 = now();

	for (size_t off = 0; off < len;) {
		ssize_t r = read(fd, dst + off, len - off < 8 * MIB ? len - off : 8 * MIB);

		if (r <= 0)
			die("read");
		off += r;
	}
	double t = now() - t0;
	munmap(dst, len);
	close(fd);
	return t;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mb", required_argument, NULL, 'm' },
		{ "dir", required_argument, NULL, 'd' },
		{ "reps", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long mb = 64;
	const char *dir = "/tmp";
	int reps = 3, c;
	char path[4096];

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': mb = strtoul(optarg, NULL, 0); break;
		case 'd': dir = optarg; break;
		case 'r': reps = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench-limits --mb N --dir DIR [--reps N]\n");
			return 2;
		}
	}
	size_t len = mb * MIB;
	snprintf(path, sizeof(path), "%s/bench-limits.%d", dir, getpid());

	char *src = region(len, 1), *dst = region(len, 1);
	double best[5] = { 1e9, 1e9, 1e9, 1e9, 1e9 };

	for (int r = 0; r < reps; r++) {
		double t0 = now(), t;

		memcpy(dst, src, len);
		t = now() - t0;
		best[0] = t < best[0] ? t : best[0];
		t = do_write(path, src, len, MIB);
		best[1] = t < best[1] ? t : best[1];
		t = do_write(path, src, len, 8 * MIB);
		best[2] = t < best[2] ? t : best[2];
		t = do_uring(path, src, len, MIB, 8);
		best[3] = t < best[3] ? t : best[3];
	}
	munmap(dst, len);
	int fd = new_file(path);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, src + off, len - off);

		if (w <= 0)
			die("write");
		off += w;
	}
	close(fd);
	for (int r = 0; r < reps; r++) {
		double t = do_read_fresh(path, len);

		best[4] = t < best[4] ? t : best[4];
	}
	unlink(path);

	static const char *const names[5] = { "memcpy", "write-1m", "write-8m", "uring-1m", "read-fresh" };
	printf("{\"bytes\": %zu, \"reps\": %d", len, reps);
	for (int i = 0; i < 5; i++)
		printf(", \"%s\": {\"seconds\": %.6f, \"gib_per_s\": %.4f}", names[i], best[i],
		       len / best[i] / (1024.0 * 1024 * 1024));
	printf("}\n");
	return 0;
}
