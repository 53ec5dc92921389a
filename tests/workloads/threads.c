// SPDX-License-Identifier: GPL-2.0
/*
 * A process of 9 threads: main and 8 workers, each with state of its own
 * that a restart must give back to that thread and not to another one:
 *
 *   - a __thread value (0x1000 + i * 7): the TLS base register (fs_base),
 *   - its blocked mask: SIGUSR1 and SIGRTMIN + i, no other SIGRTMIN + j,
 *   - a 4 KiB array on its own stack, filled with a pattern of i,
 *   - its own alternate signal stack, on which a SIGUSR2 sent to the
 *     thread after restart must run its SA_ONSTACK handler,
 *   - its tid (printed as "thread i tid N" for the test to compare with
 *     /proc/PID/task),
 *   - registers mid-loop: the workers count and sum (sum = n(n+1)/2) with
 *     some compute in between and a 5 ms nanosleep every 32 rounds, so at
 *     checkpoint a worker may be in user mode or in a syscall.
 *
 * SIGUSR1 (blocked in the workers, so main takes it) makes main raise a
 * flag; each worker then goes on for 64 more rounds and two naps (so it
 * does run after restart), checks its own state and exits; main joins them
 * all, with a deadline, so a join that never returns (the tid not cleared
 * and woken at thread exit: clear_child_tid lost) is a failure, not a hang.
 *
 * CR_CORRUPT=1 damages, in four workers, the TLS value, the mask, the
 * stack pattern and the alternate stack.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "workload.h"

#define NR_THREADS	8
#define STACK_BYTES	4096
#define ALTSTACK_BYTES	(64 * 1024)
#define STEPS		256	/* of compute, a round */
#define ROUNDS_NAP	32	/* rounds between two naps */
#define NAP_NS		(5 * 1000 * 1000)
#define ROUNDS_AFTER	(2 * ROUNDS_NAP)
#define JOIN_SECONDS	60

#define TLS_VALUE(i)	(0x1000UL + (i) * 7)
#define MAIN_TLS	0xfeedUL

struct worker {
	pthread_t thread;
	int index;
	pid_t tid;
	atomic_int running;
	atomic_ulong counter;
	unsigned long h;	/* the compute's result, so it is not optimized out */
};

static struct worker workers[NR_THREADS];
static char altstacks[NR_THREADS][ALTSTACK_BYTES] __attribute__((aligned(16)));
static atomic_int verify_phase;
static pid_t main_pid;

static __thread unsigned long tls_value;
static __thread volatile int usr2_seen, usr2_on_altstack;


static unsigned char pattern(int i, int j)
{
	return (unsigned char)((j * 13 + i * 29) ^ 0x5a);
}

/* SA_ONSTACK: must run on the altstack of the thread it was sent to. */
static void on_usr2(int sig)
{
	char here;
	stack_t ss;

	(void)sig;
	usr2_seen++;
	if (!sigaltstack(NULL, &ss) && (ss.ss_flags & SS_ONSTACK) &&
	    &here >= (char *)ss.ss_sp && &here < (char *)ss.ss_sp + ss.ss_size)
		usr2_on_altstack = 1;
}

static void __attribute__((noinline)) fill_stack(unsigned char *stack, int i)
{
	for (int j = 0; j < STACK_BYTES; j++)
		stack[j] = pattern(i, j);
}

static int __attribute__((noinline)) stack_damaged_at(const unsigned char *stack, int i)
{
	for (int j = 0; j < STACK_BYTES; j++)
		if (stack[j] != pattern(i, j))
			return j;
	return -1;
}

static void check_mask(int i)
{
	sigset_t mask;

	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	WL_CHECK(sigismember(&mask, SIGUSR1), "thread %d: SIGUSR1 is not blocked", i);
	for (int j = 0; j < NR_THREADS; j++)
		WL_CHECK(sigismember(&mask, SIGRTMIN + j) == (j == i),
			"thread %d: SIGRTMIN+%d is %sblocked", i, j, j == i ? "not " : "");
}

static void check_altstack(int i)
{
	stack_t ss;

	if (sigaltstack(NULL, &ss)) {
		WL_CHECK(0, "thread %d: sigaltstack: %s", i, strerror(errno));
		return;
	}
	WL_CHECK(ss.ss_sp == altstacks[i] && ss.ss_size == ALTSTACK_BYTES &&
		!(ss.ss_flags & SS_DISABLE),
		"thread %d: altstack %p size %zu flags %#x, expected %p size %d", i, ss.ss_sp,
		ss.ss_size, ss.ss_flags, (void *)altstacks[i], ALTSTACK_BYTES);
	usr2_seen = usr2_on_altstack = 0;
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
	WL_CHECK(usr2_seen == 1, "thread %d: SIGUSR2 sent to it ran its handler %d times", i,
		usr2_seen);
	WL_CHECK(usr2_on_altstack, "thread %d: the SIGUSR2 handler did not run on its altstack", i);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const int i = w->index;
	unsigned char stack[STACK_BYTES];
	unsigned long n = 0, sum = 0, h = (unsigned long)i, base;
	struct timespec nap = { 0, NAP_NS };
	stack_t ss = { .ss_sp = altstacks[i], .ss_size = ALTSTACK_BYTES };
	sigset_t mask;
	int bad;

	tls_value = TLS_VALUE(i);
	w->tid = gettid();
	sigemptyset(&mask);
	sigaddset(&mask, SIGRTMIN + i);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);	/* SIGUSR1 came blocked from main */
	sigaltstack(&ss, NULL);
	fill_stack(stack, i);
	atomic_store(&w->running, 1);

	for (base = 0; !base || n < base + ROUNDS_AFTER; ) {
		for (int j = 0; j < STEPS; j++)
			h = h * 31 + (unsigned long)j;
		n++;
		sum += n;
		w->h = h;
		atomic_store(&w->counter, n);
		if (n % ROUNDS_NAP == 0)
			nanosleep(&nap, NULL);
		if (!base && atomic_load(&verify_phase))
			base = n;
	}

	if (wl_corrupt()) {
		if (i == 1)
			tls_value ^= 1;
		if (i == 2) {
			sigemptyset(&mask);
			sigaddset(&mask, SIGRTMIN + 5);
			pthread_sigmask(SIG_BLOCK, &mask, NULL);
		}
		if (i == 3)
			stack[100] ^= 1;
		if (i == 4) {
			ss.ss_flags = SS_DISABLE;
			sigaltstack(&ss, NULL);
		}
	}
	WL_CHECK(gettid() == w->tid, "thread %d: tid %d, was %d", i, gettid(), w->tid);
	WL_CHECK(getpid() == main_pid, "thread %d: in process %d, not %d", i, getpid(), main_pid);
	WL_CHECK(tls_value == TLS_VALUE(i), "thread %d: TLS value %#lx, expected %#lx", i, tls_value,
		TLS_VALUE(i));
	check_mask(i);
	bad = stack_damaged_at(stack, i);
	WL_CHECK(bad < 0, "thread %d: stack byte %d changed", i, bad);
	WL_CHECK(sum == n * (n + 1) / 2, "thread %d: after %lu rounds the sum is %lu, expected %lu",
		i, n, sum, n * (n + 1) / 2);
	WL_CHECK(atomic_load(&w->counter) == n, "thread %d: counter %lu in memory, %lu locally", i,
		atomic_load(&w->counter), n);
	check_altstack(i);
	return NULL;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_usr2, .sa_flags = SA_ONSTACK };
	unsigned long before[NR_THREADS];
	struct timespec deadline;
	sigset_t usr1, mask;
	stack_t ss;

	wl_init();
	sigaction(SIGUSR2, &sa, NULL);
	tls_value = MAIN_TLS;
	main_pid = getpid();
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);	/* inherited by every worker */
	for (int i = 0; i < NR_THREADS; i++) {
		workers[i].index = i;
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i])) {
			printf("FAIL: pthread_create %d\n", i);
			return 1;
		}
	}
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);

	/* READY once every worker has its state and has been around its loop. */
	for (int i = 0; i < NR_THREADS; i++)
		while (!atomic_load(&workers[i].running) ||
		       atomic_load(&workers[i].counter) < 2 * ROUNDS_NAP)
			usleep(10000);
	for (int i = 0; i < NR_THREADS; i++)
		printf("thread %d tid %d\n", i, workers[i].tid);
	wl_ready();
	wl_wait_verify();

	for (int i = 0; i < NR_THREADS; i++)
		before[i] = atomic_load(&workers[i].counter);
	atomic_store(&verify_phase, 1);

	WL_CHECK(tls_value == MAIN_TLS, "main: TLS value %#lx, expected %#lx", tls_value, MAIN_TLS);
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	WL_CHECK(!sigismember(&mask, SIGUSR1), "main: SIGUSR1 is blocked");
	for (int j = 0; j < NR_THREADS; j++)
		WL_CHECK(!sigismember(&mask, SIGRTMIN + j), "main: SIGRTMIN+%d is blocked", j);
	WL_CHECK(!sigaltstack(NULL, &ss) && (ss.ss_flags & SS_DISABLE), "main: has an altstack");

	/* One deadline for all the joins: the harness waits for us only so long. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += JOIN_SECONDS;
	for (int i = 0; i < NR_THREADS; i++) {
		int err = pthread_timedjoin_np(workers[i].thread, NULL, &deadline);

		if (err) {
			wl_fail("thread %d (tid %d): join: %s within %d s; counter %lu, was %lu", i,
				workers[i].tid, strerror(err), JOIN_SECONDS,
				atomic_load(&workers[i].counter), before[i]);
			continue;
		}
		WL_CHECK(atomic_load(&workers[i].counter) >= before[i] + ROUNDS_AFTER,
			 "thread %d: counter %lu, only %lu rounds after restart", i,
			 atomic_load(&workers[i].counter),
			 atomic_load(&workers[i].counter) - before[i]);
	}
	return wl_finish();
}
