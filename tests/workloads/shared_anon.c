// SPDX-License-Identifier: GPL-2.0
/*
 * A parent and its forked child share 1 MiB of MAP_SHARED anonymous memory
 * (the way forked workers share a buffer) and each has its own copy of a
 * private region written before the fork. After restart a write to the
 * shared region by either is seen by the other, and the private copies
 * stay private: a write by the child is not seen by the parent. The child
 * prints "child PID" so a test can also checkpoint it alone.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "workload.h"

#define SHARED_BYTES	(1 << 20)
#define WORDS		(SHARED_BYTES / sizeof(int))

static volatile int *shared, *private;
static int to_child[2], to_parent[2];

static int pattern_ok(volatile int *p, int salt)
{
	for (size_t i = 0; i < WORDS; i += 1024)
		if (p[i] != (int)(i * 7 + salt))
			return 0;
	return 1;
}

static void fill(volatile int *p, int salt)
{
	for (size_t i = 0; i < WORDS; i += 1024)
		p[i] = i * 7 + salt;
}

/* The child's half: check, write for the parent, then check the parent's write. */
static int child_main(void)
{
	char byte;

	while (!wl_verify_requested)
		pause();
	WL_CHECK(pattern_ok(shared, 1), "child: the shared pattern is gone");
	WL_CHECK(pattern_ok(private, 2), "child: its private copy changed");
	shared[1] = 5678;
	private[1] = 4321;
	wl_put(to_parent[1], "c", 1);
	WL_CHECK(wl_get(to_child[0], &byte, 1) == 0, "child: no word from the parent");
	WL_CHECK(shared[2] == 91011, "child: does not see the parent's write (%d)", shared[2]);
	return wl_failures ? 1 : 0;
}

int main(void)
{
	pid_t child;
	char byte;
	int status;

	shared = mmap(NULL, SHARED_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	private = mmap(NULL, SHARED_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED || private == MAP_FAILED || pipe(to_child) || pipe(to_parent))
		return 1;
	wl_init();
	fill(shared, 1);
	fill(private, 2);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0)
		_exit(child_main());
	printf("child %d\n", child);
	wl_ready();
	wl_wait_verify();

	kill(child, SIGUSR1);
	if (wl_corrupt()) {
		/* What losing the sharing looks like: the parent gets a copy of its own. */
		void *copy = mmap(NULL, SHARED_BYTES, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		memcpy(copy, (void *)shared, SHARED_BYTES);
		mremap(copy, SHARED_BYTES, SHARED_BYTES, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)shared);
	}
	WL_CHECK(pattern_ok(shared, 1), "parent: the shared pattern is gone");
	WL_CHECK(wl_get(to_parent[0], &byte, 1) == 0, "parent: no word from the child");
	WL_CHECK(shared[1] == 5678, "parent: does not see the child's write (%d)", shared[1]);
	WL_CHECK(private[1] != 4321, "parent: sees the child's write to its private copy");
	shared[2] = 91011;
	wl_put(to_child[1], "p", 1);
	WL_CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && !WEXITSTATUS(status),
		 "the child's checks failed (status %#x)", status);
	return wl_finish();
}
