// SPDX-License-Identifier: GPL-2.0
/*
 * A 3-level tree of 8 processes passing a token around a ring of pipes.
 *
 *   root ─┬─ a ─┬─ a1
 *         │     └─ a2
 *         ├─ b ─── b1      b leads a new session (b, b1)
 *         └─ c ─── c1      c leads its own process group (c, c1)
 *
 * Process k reads the token from ring[k] and passes it, plus one, to
 * ring[k + 1]: each value it receives must be its previous one plus 8, so
 * a token lost, doubled or reordered by C/R is caught. Each process also
 * keeps a heap pattern, its parent, group and session, and the one open
 * file of stdout all 8 share (its offset is shared).
 *
 * SIGUSR1 to the root is passed down the tree; every process checks its
 * own state, waits for its children's verdicts and exits 0 only if all
 * passed; the root then prints PASS. With CR_TREE_HOLD=PATH, a2 keeps PATH
 * open (a test removes it to make the restart of a2 fail).
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/wait.h>

#include "workload.h"

#define NR_PROCS	8
#define HEAP_BYTES	(256 * 1024)

static int ring[NR_PROCS][2];
static pid_t children[NR_PROCS];
static int nr_children;

/* Who we are: index in the ring, name, and the ids we must keep. */
static int me;
static const char *name = "root";
static pid_t my_ppid, my_pgid, my_sid;
static unsigned char *heap;
static uint64_t last_token, tokens_seen;
static int token_broken;

static void keep_my_ring_ends(void)
{
	for (int k = 0; k < NR_PROCS; k++) {
		if (k != me)
			close(ring[k][0]);
		if (k != (me + 1) % NR_PROCS)
			close(ring[k][1]);
	}
}

static void fill_heap(void)
{
	heap = malloc(HEAP_BYTES);
	for (int i = 0; i < HEAP_BYTES; i++)
		heap[i] = (unsigned char)(i * 7 + me * 31);
}

static pid_t spawn(int index, const char *child_name, void (*setup)(void), void (*body)(void));

static void new_session(void)
{
	setsid();
}

static void own_group(void)
{
	setpgid(0, 0);
}

static void hold_file(void)
{
	const char *path = getenv("CR_TREE_HOLD");

	if (path && open(path, O_RDONLY) < 0)
		wl_fail("%s: cannot open %s: %s", name, path, strerror(errno));
}

static void pass_tokens(void)
{
	uint64_t token;

	while (!wl_verify_requested) {
		ssize_t n = read(ring[me][0], &token, sizeof(token));

		if (n != sizeof(token))
			break;	/* EINTR for SIGUSR1, or the ring is closing */
		if (tokens_seen && token != last_token + NR_PROCS && !token_broken) {
			wl_fail("%s: token %llu after %llu, expected %llu", name,
				(unsigned long long)token, (unsigned long long)last_token,
				(unsigned long long)(last_token + NR_PROCS));
			token_broken = 1;
		}
		last_token = token;
		tokens_seen++;
		if (me == 0) {
			if (tokens_seen % 64 == 0)
				printf("round %llu\n", (unsigned long long)tokens_seen);
			usleep(2000);	/* the ring must not eat the VM's CPU */
		}
		token++;
		if (write(ring[(me + 1) % NR_PROCS][1], &token, sizeof(token)) != sizeof(token))
			break;
	}
}

static int verify(void)
{
	int ok = 1;

	for (int i = 0; i < nr_children; i++)
		kill(children[i], SIGUSR1);
	if (getppid() != my_ppid || getpgid(0) != my_pgid || getsid(0) != my_sid) {
		wl_fail("%s: ppid/pgid/sid %d/%d/%d, expected %d/%d/%d", name, getppid(), getpgid(0),
			getsid(0), my_ppid, my_pgid, my_sid);
		ok = 0;
	}
	if (me == 0 && wl_corrupt())
		heap[4096] ^= 1;
	for (int i = 0; i < HEAP_BYTES; i++) {
		if (heap[i] != (unsigned char)(i * 7 + me * 31)) {
			wl_fail("%s: heap byte %d changed", name, i);
			ok = 0;
			break;
		}
	}
	if (!tokens_seen || token_broken)
		ok = 0;
	if (!tokens_seen)
		wl_fail("%s: never saw the token", name);
	for (int i = 0; i < nr_children; i++) {
		int status;

		if (waitpid(children[i], &status, 0) != children[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			wl_fail("%s: child %d did not pass (status %#x)", name, children[i], status);
			ok = 0;
		}
	}
	return ok;
}

static void a_body(void)
{
	spawn(3, "a1", NULL, NULL);
	spawn(4, "a2", hold_file, NULL);
}

static void b_body(void)
{
	spawn(5, "b1", NULL, NULL);
}

static void c_body(void)
{
	spawn(6, "c1", NULL, NULL);
}

/* Fork ring member @index; it runs @setup, then @body (its own children), then the ring. */
static pid_t spawn(int index, const char *child_name, void (*setup)(void), void (*body)(void))
{
	pid_t pid = fork();

	if (pid < 0) {
		wl_fail("%s: fork: %s", name, strerror(errno));
		exit(1);
	}
	if (pid > 0) {
		children[nr_children++] = pid;
		return pid;
	}
	me = index;
	name = child_name;
	nr_children = 0;
	if (setup)
		setup();
	if (body)
		body();
	keep_my_ring_ends();
	my_ppid = getppid();
	my_pgid = getpgid(0);
	my_sid = getsid(0);
	fill_heap();
	pass_tokens();
	exit(verify() ? 0 : 1);
}

int main(void)
{
	uint64_t first = 1;

	wl_init();
	signal(SIGPIPE, SIG_IGN);
	for (int k = 0; k < NR_PROCS; k++)
		if (pipe(ring[k]))
			return 1;
	spawn(1, "a", NULL, a_body);
	spawn(2, "b", new_session, b_body);
	spawn(7, "c", own_group, c_body);
	me = 0;
	keep_my_ring_ends();
	my_ppid = getppid();
	my_pgid = getpgid(0);
	my_sid = getsid(0);
	fill_heap();
	if (write(ring[1][1], &first, sizeof(first)) != sizeof(first))
		return 1;
	wl_ready();
	pass_tokens();
	return verify() && !wl_failures ? wl_finish() : 1;
}
