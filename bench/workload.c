// SPDX-License-Identifier: GPL-2.0
/*
 * bench-wl: the benchmark workloads, one program whose options compose them.
 *
 *   bench-wl --stamp FILE [--mb N] [--procs N] [--threads N] [--span-mb N --touch-mb N]
 *            [--vmas N] [--fds N] [--pipe-bytes N]
 *
 *   W1 small process      --mb 1 --fds 16
 *   W2 anonymous memory   --mb 512
 *   W3 process tree       --procs 16 --mb 32
 *   W4 threads, sparse    --threads 8 --span-mb 4096 --touch-mb 64
 *   W5 many VMAs          --vmas 20000
 *   W6 many fds           --fds 10000
 *
 * Every process fills --mb MiB of private anonymous memory with a pattern
 * of its own (no zero word, no repetition), so a checkpointer has to save
 * every byte. The root's main thread then spins, stamping CLOCK_MONOTONIC
 * into a shared file mapping (--stamp, struct bench_stamp): the largest gap
 * between two stamps since the harness last asked for a reset is how long
 * the process was held still. The harness reads it from outside, for
 * either checkpointer, the same way.
 *
 * READY on stdout once everything is set up. On SIGUSR1 (after restart)
 * every process checks all of its state (memory, the pipes from its parent
 * and their data, fd offsets and inodes, VMA layout and protections, its
 * threads and children) and the root prints VERIFY OK and exits 0, or
 * FAIL lines, VERIFY FAIL and exits 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stamp.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024UL)
#define GOLDEN 0x9E3779B97F4A7C15ULL
#define NFILES 16

static struct {
	const char *stamp;
	unsigned long mb;
	int procs;
	int threads;
	unsigned long span_mb;
	unsigned long touch_mb;
	int vmas;
	int fds;
	int pipe_bytes;
} opt = { .mb = 0, .procs = 1, .threads = 1, .pipe_bytes = 4096 };

static struct bench_stamp *stamp;
static volatile sig_atomic_t verify_requested;
static int failures;
static int self_index;	/* this process's place in the tree, 0 for the root */

static void on_verify(int sig)
{
	(void)sig;
	verify_requested = 1;
}

static void fail(const char *fmt, ...)
{
	va_list ap;
	char buf[512];
	int n;

	va_start(ap, fmt);
	n = snprintf(buf, sizeof(buf), "FAIL [process %d]: ", self_index);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write per line: processes of a tree share the log. */
	if (write(1, buf, n) < 0) {
	}
	__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

static void die(const char *what)
{
	fprintf(stderr, "bench-wl: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Word @i of the region seeded @seed: never zero, never repeating. */
static inline uint64_t pattern(uint64_t seed, uint64_t i)
{
	return ((seed << 40) + i + 1) * GOLDEN;
}

static void fill(uint64_t *p, size_t words, uint64_t seed, uint64_t first)
{
	for (size_t i = 0; i < words; i++)
		p[i] = pattern(seed, first + i);
}

static size_t check(const uint64_t *p, size_t words, uint64_t seed, uint64_t first)
{
	size_t bad = 0;

	for (size_t i = 0; i < words; i++)
		if (p[i] != pattern(seed, first + i))
			bad++;
	return bad;
}

/* --- anonymous memory ---------------------------------------------------- */

static uint64_t *anon;
static size_t anon_words;

static void setup_anon(void)
{
	size_t len = opt.mb * MIB;

	if (!len)
		return;
	anon = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		die("mmap anonymous memory");
	anon_words = len / 8;
	fill(anon, anon_words, 1000 + self_index, 0);
}

static void verify_anon(void)
{
	size_t bad;

	if (!anon)
		return;
	bad = check(anon, anon_words, 1000 + self_index, 0);
	if (bad)
		fail("%zu of %zu words of anonymous memory differ", bad, anon_words);
}

/* --- a sparse mapping touched by several threads -------------------------- */

static uint8_t *span;
static size_t span_pages, stride;
static sem_t go_verify;
static pthread_t *threads;
static int threads_ready;

static void touch_share(int t, int verify)
{
	size_t bad = 0, zero_bad = 0;

	for (size_t k = t, pg; (pg = k * stride) < span_pages; k += opt.threads) {
		uint64_t *p = (uint64_t *)(span + pg * PAGE);

		if (!verify) {
			fill(p, PAGE / 8, 2000, pg * (PAGE / 8));
			continue;
		}
		bad += check(p, PAGE / 8, 2000, pg * (PAGE / 8)) != 0;
		/* The page after a touched one was never written: it reads as zeros. */
		if (stride > 1 && pg + 1 < span_pages) {
			const uint64_t *z = (const uint64_t *)(span + (pg + 1) * PAGE);

			for (size_t i = 0; i < PAGE / 8; i++)
				if (z[i]) {
					zero_bad++;
					break;
				}
		}
	}
	if (bad)
		fail("thread %d: %zu touched pages of the sparse mapping differ", t, bad);
	if (zero_bad)
		fail("thread %d: %zu untouched pages of the sparse mapping are not zero", t, zero_bad);
}

static void *span_thread(void *arg)
{
	int t = (int)(intptr_t)arg;

	touch_share(t, 0);
	__atomic_fetch_add(&threads_ready, 1, __ATOMIC_SEQ_CST);
	while (sem_wait(&go_verify) < 0 && errno == EINTR) {
	}
	touch_share(t, 1);
	return NULL;
}

static void setup_span(void)
{
	size_t touch_pages;

	if (!opt.span_mb)
		return;
	span_pages = opt.span_mb * MIB / PAGE;
	touch_pages = opt.touch_mb * MIB / PAGE;
	stride = touch_pages ? span_pages / touch_pages : span_pages;
	if (!stride)
		stride = 1;
	span = mmap(NULL, span_pages * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (span == MAP_FAILED)
		die("mmap the sparse mapping");
}

static void start_threads(void)
{
	if (opt.threads < 2 && !span)
		return;
	sem_init(&go_verify, 0, 0);
	threads = calloc(opt.threads, sizeof(*threads));
	for (int t = 1; t < opt.threads; t++)
		if (pthread_create(&threads[t], NULL, span_thread, (void *)(intptr_t)t))
			die("pthread_create");
	if (span)
		touch_share(0, 0);
	while (__atomic_load_n(&threads_ready, __ATOMIC_SEQ_CST) < opt.threads - 1)
		usleep(1000);
}

static void verify_threads(void)
{
	if (!threads)
		return;
	for (int t = 1; t < opt.threads; t++)
		sem_post(&go_verify);
	if (span)
		touch_share(0, 1);
	/* A thread that was not restored never clears its tid: the harness times out. */
	for (int t = 1; t < opt.threads; t++)
		pthread_join(threads[t], NULL);
}

/* --- many small VMAs ------------------------------------------------------ */

static uint8_t *vma_base;

static void setup_vmas(void)
{
	if (!opt.vmas)
		return;
	vma_base = mmap(NULL, opt.vmas * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vma_base == MAP_FAILED)
		die("mmap the VMA region");
	for (int i = 0; i < opt.vmas; i++)
		fill((uint64_t *)(vma_base + i * PAGE), PAGE / 8, 3000, (uint64_t)i * (PAGE / 8));
	/* Every other page read-only: @vmas mappings that cannot merge. */
	for (int i = 1; i < opt.vmas; i += 2)
		if (mprotect(vma_base + i * PAGE, PAGE, PROT_READ))
			die("mprotect");
}

static void verify_vmas(void)
{
	unsigned long lo = (unsigned long)vma_base, hi = lo + opt.vmas * PAGE, s, e;
	size_t bad = 0;
	int seen = 0, wrong_prot = 0;
	char line[512], perms[8];
	FILE *maps;

	if (!opt.vmas)
		return;
	for (int i = 0; i < opt.vmas; i++)
		bad += check((uint64_t *)(vma_base + i * PAGE), PAGE / 8, 3000, (uint64_t)i * (PAGE / 8)) != 0;
	if (bad)
		fail("%zu of %d pages of the VMA region differ", bad, opt.vmas);
	maps = fopen("/proc/self/maps", "r");
	if (!maps) {
		fail("cannot read /proc/self/maps");
		return;
	}
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) != 3 || s < lo || e > hi)
			continue;
		int i = (s - lo) / PAGE;
		if (e - s != PAGE || strcmp(perms, i % 2 ? "r--p" : "rw-p"))
			wrong_prot++;
		seen++;
	}
	fclose(maps);
	if (seen != opt.vmas || wrong_prot)
		fail("the VMA region has %d mappings (%d with the wrong size or protection), expected %d",
		     seen, wrong_prot, opt.vmas);
}

/* --- many fds ------------------------------------------------------------- */

struct fd_rec {
	int fd;
	int kind;	/* 0: regular file, 1: pipe read end, 2: pipe write end */
	int file;	/* which file (regular), or the pair's other fd (pipe) */
	off_t offset;
};

static struct fd_rec *fdrecs;
static int nfdrecs;
static ino_t file_ino[NFILES];

static void setup_fds(void)
{
	int want = opt.fds - 3, n = 0;
	char name[64], block[4096];
	struct rlimit rl;

	if (want <= 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.fds + 64) {
		rl.rlim_cur = rl.rlim_max = opt.fds + 64;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			die("setrlimit(RLIMIT_NOFILE)");
	}
	fdrecs = calloc(want + 1, sizeof(*fdrecs));
	for (int k = 0; k < NFILES; k++) {
		struct stat st;
		int fd;

		snprintf(name, sizeof(name), "bench-fds-%d.dat", k);
		fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("create a file for the fds");
		memset(block, 'a' + k, sizeof(block));
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block) || fstat(fd, &st))
			die("write a file for the fds");
		file_ino[k] = st.st_ino;
		close(fd);
	}
	while (n < want) {
		if (n % 16 == 0 && n + 2 <= want) {
			int p[2];
			uint64_t v = pattern(4000, n);

			if (pipe(p))
				die("pipe");
			if (write(p[1], &v, sizeof(v)) != sizeof(v))
				die("write to a pipe");
			fdrecs[n++] = (struct fd_rec){ p[0], 1, p[1], (off_t)v };
			fdrecs[n++] = (struct fd_rec){ p[1], 2, p[0], 0 };
			continue;
		}
		snprintf(name, sizeof(name), "bench-fds-%d.dat", n % NFILES);
		int fd = open(name, O_RDWR);
		if (fd < 0)
			die("open a file for the fds");
		off_t off = (n * 7) % 4096;
		lseek(fd, off, SEEK_SET);
		fdrecs[n] = (struct fd_rec){ fd, 0, n % NFILES, off };
		n++;
	}
	nfdrecs = n;
}

static void verify_fds(void)
{
	int bad_off = 0, bad_ino = 0, bad_pipe = 0;

	for (int i = 0; i < nfdrecs; i++) {
		struct fd_rec *r = &fdrecs[i];
		struct stat st;

		if (r->kind == 0) {
			if (lseek(r->fd, 0, SEEK_CUR) != r->offset)
				bad_off++;
			if (fstat(r->fd, &st) || st.st_ino != file_ino[r->file])
				bad_ino++;
		} else if (r->kind == 1) {
			uint64_t v = 0;
			int avail = -1;

			if (ioctl(r->fd, FIONREAD, &avail) || avail != sizeof(v) ||
			    read(r->fd, &v, sizeof(v)) != sizeof(v) || v != (uint64_t)r->offset)
				bad_pipe++;
			else if (write(r->file, &v, sizeof(v)) != sizeof(v))	/* the write end works too */
				bad_pipe++;
		}
	}
	if (bad_off || bad_ino || bad_pipe)
		fail("of %d fds: %d at the wrong offset, %d on the wrong file, %d pipes without their data",
		     nfdrecs, bad_off, bad_ino, bad_pipe);
}

/* --- the process tree ----------------------------------------------------- */

static int parent_rfd = -1;		/* the pipe from our parent */
static pid_t child_pid[2];
static int child_wfd[2] = { -1, -1 };
static int nchildren;

static void pipe_data(uint8_t *buf, int len, int index)
{
	for (int i = 0; i < len; i++)
		buf[i] = (uint8_t)(pattern(5000 + index, i) >> 56);
}

/* Process @index creates its children 2i+1 and 2i+2, each with a pipe that holds data. */
static void make_children(void)
{
	for (int c = 2 * self_index + 1; c <= 2 * self_index + 2 && c < opt.procs; c++) {
		int p[2];
		pid_t pid;

		if (pipe(p))
			die("pipe");
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(p[1]);
			if (parent_rfd >= 0)
				close(parent_rfd);
			for (int k = 0; k < nchildren; k++)
				close(child_wfd[k]);
			nchildren = 0;
			parent_rfd = p[0];
			self_index = c;
			make_children();
			return;
		}
		close(p[0]);
		uint8_t *buf = malloc(opt.pipe_bytes);
		pipe_data(buf, opt.pipe_bytes, c);
		if (write(p[1], buf, opt.pipe_bytes) != opt.pipe_bytes)
			die("write into a child's pipe");
		free(buf);
		child_pid[nchildren] = pid;
		child_wfd[nchildren++] = p[1];
	}
}

static void verify_tree_links(void)
{
	if (parent_rfd >= 0) {
		uint8_t *want = malloc(opt.pipe_bytes), *got = malloc(opt.pipe_bytes);
		int avail = -1;

		pipe_data(want, opt.pipe_bytes, self_index);
		if (ioctl(parent_rfd, FIONREAD, &avail) || avail != opt.pipe_bytes)
			fail("the pipe from the parent holds %d bytes, expected %d", avail, opt.pipe_bytes);
		else if (read(parent_rfd, got, opt.pipe_bytes) != opt.pipe_bytes ||
			 memcmp(want, got, opt.pipe_bytes))
			fail("the pipe from the parent lost its data");
		free(want);
		free(got);
	}
	for (int k = 0; k < nchildren; k++) {
		int status;

		if (waitpid(child_pid[k], &status, 0) != child_pid[k])
			fail("child %d (pid %d) cannot be waited for: %s", 2 * self_index + 1 + k, child_pid[k],
			     strerror(errno));
		else if (!WIFEXITED(status) || WEXITSTATUS(status))
			fail("child %d (pid %d) failed its checks (status 0x%x)", 2 * self_index + 1 + k,
			     child_pid[k], status);
	}
}

/* --- main ----------------------------------------------------------------- */

static void map_stamp(void)
{
	int fd = open(opt.stamp, O_RDWR | O_CREAT, 0644);

	if (fd < 0 || ftruncate(fd, PAGE))
		die(opt.stamp);
	stamp = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (stamp == MAP_FAILED)
		die("mmap the stamp file");
	close(fd);
}

/* The root: stamp the clock until told to verify. */
static void stamp_loop(void)
{
	uint64_t last = now_ns(), max_gap = 0, ack = stamp->reset_req;

	stamp->reset_ack = ack;
	while (!verify_requested) {
		uint64_t t = now_ns(), req = __atomic_load_n(&stamp->reset_req, __ATOMIC_ACQUIRE);

		if (req != ack) {
			max_gap = 0;
			stamp->max_gap_ns = 0;
			ack = req;
			__atomic_store_n(&stamp->reset_ack, ack, __ATOMIC_RELEASE);
		} else if (t - last > max_gap) {
			max_gap = t - last;
			stamp->max_gap_ns = max_gap;
		}
		last = t;
		__atomic_store_n(&stamp->now_ns, t, __ATOMIC_RELEASE);
		stamp->loops++;
	}
}

/* Not the root: sleep until SIGUSR1 (blocked outside sigsuspend, so none is lost). */
static void wait_verify(void)
{
	sigset_t none;

	sigemptyset(&none);
	while (!verify_requested)
		sigsuspend(&none);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-wl --stamp FILE [--mb N] [--procs N] [--threads N] [--span-mb N --touch-mb N] "
			"[--vmas N] [--fds N] [--pipe-bytes N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stamp", required_argument, NULL, 's' },
		{ "mb", required_argument, NULL, 'm' },
		{ "procs", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "span-mb", required_argument, NULL, 'S' },
		{ "touch-mb", required_argument, NULL, 'T' },
		{ "vmas", required_argument, NULL, 'v' },
		{ "fds", required_argument, NULL, 'f' },
		{ "pipe-bytes", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_verify };
	sigset_t usr1;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': opt.stamp = optarg; break;
		case 'm': opt.mb = strtoul(optarg, NULL, 0); break;
		case 'p': opt.procs = atoi(optarg); break;
		case 't': opt.threads = atoi(optarg); break;
		case 'S': opt.span_mb = strtoul(optarg, NULL, 0); break;
		case 'T': opt.touch_mb = strtoul(optarg, NULL, 0); break;
		case 'v': opt.vmas = atoi(optarg); break;
		case 'f': opt.fds = atoi(optarg); break;
		case 'b': opt.pipe_bytes = atoi(optarg); break;
		default: usage();
		}
	}
	if (!opt.stamp || opt.procs < 1 || opt.threads < 1 || opt.pipe_bytes < 1 || opt.pipe_bytes > 65536)
		usage();

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	map_stamp();
	stamp->ready = 0;

	/* Children first, so none inherits its parent's memory copy-on-write. */
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	make_children();
	setup_anon();
	if (self_index == 0) {
		setup_span();
		setup_vmas();
		setup_fds();
		start_threads();
	}
	__atomic_fetch_add(&stamp->ready, 1, __ATOMIC_SEQ_CST);

	if (self_index != 0) {
		wait_verify();
	} else {
		while (__atomic_load_n(&stamp->ready, __ATOMIC_SEQ_CST) < (uint64_t)opt.procs)
			usleep(1000);
		stamp->pid = getpid();
		printf("READY\n");
		fflush(stdout);
		sigprocmask(SIG_UNBLOCK, &usr1, NULL);
		stamp_loop();
	}

	/* BENCH_CORRUPT=1: spoil one piece of each kind of state first, to show the checks can fail. */
	if (getenv("BENCH_CORRUPT") && *getenv("BENCH_CORRUPT") == '1') {
		if (anon)
			anon[anon_words / 2] ^= 1;
		if (span)
			span[0] ^= 1;
		if (vma_base)
			vma_base[0] ^= 1;
		if (nfdrecs && fdrecs[nfdrecs - 1].kind == 0)
			lseek(fdrecs[nfdrecs - 1].fd, 1, SEEK_CUR);
	}

	/* Verify: children first (they check their own state while we check ours). */
	for (int k = 0; k < nchildren; k++)
		kill(child_pid[k], SIGUSR1);
	verify_anon();
	if (self_index == 0) {
		verify_threads();
		verify_vmas();
		verify_fds();
	}
	verify_tree_links();
	if (self_index == 0) {
		printf(failures ? "VERIFY FAIL\n" : "VERIFY OK\n");
		fflush(stdout);
	}
	return failures ? 1 : 0;
}
