// SPDX-License-Identifier: GPL-2.0
/*
 * bench-crpipe: the ways an image can go from checkpoint(2) to a file, to
 * measure them against each other on the same process (left running).
 *
 *   bench-crpipe --pid P --output FILE --mode MODE [--zstd LEVEL] [--pipe-size BYTES]
 *
 * direct   checkpoint(2) writes FILE itself (what `cr-tool checkpoint` does)
 * uring    checkpoint(2) writes a pipe; this program reads it and writes FILE
 *          with io_uring (1 MiB writes, 8 in flight): the path a tool in the
 *          middle (compression, a socket, a remote store) would take
 * splice   the same with splice(2) from the pipe into FILE, no user copy
 * --zstd   (uring only) compress the stream with zstd at LEVEL on the way
 *
 * Prints one JSON object: the wall time, the time the checkpoint(2) call
 * took (the process is held still for all of it), the stream's bytes and
 * the bytes written to FILE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include <linux/checkpoint.h>

#define MIB (1024UL * 1024UL)
#define BUF (1 * MIB)
#define DEPTH 8

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-crpipe: %s: %s\n", what, strerror(errno));
	exit(2);
}

struct ckpt {
	pid_t pid;
	int fd;
	long ret;
	int err;
	double seconds;
};

static void *run_checkpoint(void *arg)
{
	struct ckpt *c = arg;
	double t0 = now();

	c->ret = syscall(__NR_checkpoint, c->pid, c->fd, 0, -1);
	c->err = errno;
	c->seconds = now() - t0;
	close(c->fd);	/* EOF for the reader */
	return NULL;
}

/* Fill @buf from the pipe: returns the bytes read, less than @len only at EOF. */
static size_t read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read the pipe");
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

struct writer {
	struct io_uring ring;
	int fd;
	char *bufs[DEPTH];
	int free_list[DEPTH], nfree;
	off_t off;
};

static void writer_reap(struct writer *w, int wait)
{
	struct io_uring_cqe *cqe;

	while ((wait ? io_uring_wait_cqe(&w->ring, &cqe) : io_uring_peek_cqe(&w->ring, &cqe)) == 0) {
		if (cqe->res < 0) {
			errno = -cqe->res;
			die("io_uring write");
		}
		/* user_data: buffer index in the low bits, the write's length above */
		if ((uint64_t)cqe->res != cqe->user_data >> 8) {
			errno = EIO;
			die("short io_uring write");
		}
		w->free_list[w->nfree++] = cqe->user_data & 0xff;
		io_uring_cqe_seen(&w->ring, cqe);
		wait = 0;
	}
}

static char *writer_buf(struct writer *w, int *idx)
{
	if (!w->nfree)
		writer_reap(w, 1);
	*idx = w->free_list[--w->nfree];
	return w->bufs[*idx];
}

static void writer_submit(struct writer *w, int idx, size_t len)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	io_uring_prep_write(sqe, w->fd, w->bufs[idx], len, w->off);
	sqe->user_data = ((uint64_t)len << 8) | idx;
	w->off += len;
	io_uring_submit(&w->ring);
	writer_reap(w, 0);
}

static void writer_drain(struct writer *w)
{
	while (w->nfree < DEPTH)
		writer_reap(w, 1);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "mode", required_argument, NULL, 'm' },
		{ "zstd", required_argument, NULL, 'z' },
		{ "pipe-size", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *mode = "direct";
	int zlevel = 0, pipe_size = 4 * MIB, c;
	struct ckpt ck = { 0 };
	uint64_t stream = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': ck.pid = atoi(optarg); break;
		case 'o': output = optarg; break;
		case 'm': mode = optarg; break;
		case 'z': zlevel = atoi(optarg); break;
		case 's': pipe_size = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!ck.pid || !output || (strcmp(mode, "direct") && strcmp(mode, "uring") && strcmp(mode, "splice")) ||
	    (zlevel && strcmp(mode, "uring")))
		goto usage;

	int out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		die(output);
	double t0 = now();

	if (!strcmp(mode, "direct")) {
		ck.fd = dup(out);
		run_checkpoint(&ck);
	} else {
		int p[2];
		pthread_t th;

		if (pipe2(p, O_CLOEXEC))
			die("pipe2");
		/* A bigger pipe means fewer switches between the kernel writing and us reading. */
		while (pipe_size >= 65536 && fcntl(p[1], F_SETPIPE_SZ, pipe_size) < 0)
			pipe_size /= 2;
		ck.fd = p[1];
		if (pthread_create(&th, NULL, run_checkpoint, &ck))
			die("pthread_create");

		if (!strcmp(mode, "splice")) {
			loff_t off = 0;
			ssize_t n;

			while ((n = splice(p[0], NULL, out, &off, 16 * MIB, SPLICE_F_MOVE | SPLICE_F_MORE)) != 0) {
				if (n < 0 && errno == EINTR)
					continue;
				if (n < 0)
					die("splice");
				stream += n;
			}
		} else {
			struct writer w = { .fd = out };
			ZSTD_CCtx *z = NULL;
			char *in = NULL;

			if (io_uring_queue_init(DEPTH, &w.ring, 0))
				die("io_uring_queue_init");
			for (int i = 0; i < DEPTH; i++) {
				size_t cap = zlevel ? ZSTD_compressBound(BUF) : BUF;

				w.bufs[i] = aligned_alloc(4096, (cap + 4095) & ~4095UL);
				w.free_list[w.nfree++] = i;
			}
			if (zlevel) {
				z = ZSTD_createCCtx();
				ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, zlevel);
				/* One worker compresses while this thread reads the pipe (if libzstd has threads). */
				ZSTD_CCtx_setParameter(z, ZSTD_c_nbWorkers, 1);
				in = malloc(BUF);
			}
			for (;;) {
				int idx;
				char *buf = writer_buf(&w, &idx);

				if (!z) {
					size_t n = read_full(p[0], buf, BUF);

					stream += n;
					if (n)
						writer_submit(&w, idx, n);
					else
						w.free_list[w.nfree++] = idx;
					if (n < BUF)
						break;
					continue;
				}
				size_t n = read_full(p[0], in, BUF);
				int last = n < BUF;
				ZSTD_inBuffer zin = { in, n, 0 };
				size_t cap = ZSTD_compressBound(BUF);

				stream += n;
				for (;;) {
					ZSTD_outBuffer zout = { buf, cap, 0 };
					size_t left = ZSTD_compressStream2(z, &zout, &zin, last ? ZSTD_e_end : ZSTD_e_continue);

					if (ZSTD_isError(left)) {
						fprintf(stderr, "bench-crpipe: zstd: %s\n", ZSTD_getErrorName(left));
						return 2;
					}
					if (zout.pos)
						writer_submit(&w, idx, zout.pos);
					else
						w.free_list[w.nfree++] = idx;
					if (last ? left == 0 : zin.pos == zin.size)
						break;
					buf = writer_buf(&w, &idx);
				}
				if (last)
					break;
			}
			writer_drain(&w);
			io_uring_queue_exit(&w.ring);
			ZSTD_freeCCtx(z);
		}
		close(p[0]);
		pthread_join(th, NULL);
	}
	double wall = now() - t0;
	struct stat st;

	if (fstat(out, &st))
		die("fstat");
	close(out);
	if (ck.ret < 0) {
		errno = ck.err;
		die("checkpoint(2)");
	}
	if (!strcmp(mode, "direct"))
		stream = st.st_size;
	printf("{\"mode\": \"%s\", \"zstd\": %d, \"pipe_size\": %d, \"seconds\": %.6f, \"syscall_seconds\": %.6f, "
	       "\"stream_bytes\": %llu, \"file_bytes\": %llu}\n",
	       mode, zlevel, strcmp(mode, "direct") ? pipe_size : 0, wall, ck.seconds,
	       (unsigned long long)stream, (unsigned long long)st.st_size);
	return 0;

usage:
	fprintf(stderr, "usage: bench-crpipe --pid P --output FILE --mode direct|uring|splice [--zstd LEVEL] "
			"[--pipe-size BYTES]\n");
	return 2;
}
