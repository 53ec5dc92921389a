// SPDX-License-Identifier: GPL-2.0
/*
 * Threads blocked in the kernel on futexes at checkpoint stay blocked after
 * restart, and wake when, and in the order, they are meant to.
 *
 * Main holds a pthread mutex; 10 threads are started one at a time, each
 * only once the previous one sleeps in futex() on that mutex (its
 * /proc/self/task/TID/stat state is S and its syscall is futex). Before
 * blocking, thread k took ticket k + 1 of a FIFO ticket lock of our own
 * (a futex word now_serving; main holds ticket 0 and, at the end, the last
 * ticket), and keeps it in a variable on its stack. An 11th thread waits in
 * pthread_cond_wait() for a predicate.
 *
 * After SIGUSR1: nobody may have got past a lock yet; main signals the
 * condition (the waiter must wake and see its predicate), unlocks the
 * mutex (all 10 must get it: futex waiters and the mutex's waiters bit
 * kept), then hands the ticket lock on: each thread, served in ticket
 * order, records itself and passes the lock to the next. The recorded
 * order must be 0..9. Then every thread must be joinable (clear_child_tid
 * kept). Every wait has a deadline, so a lost wakeup fails instead of
 * hanging. Each thread also checks its tid did not change; the tids are
 * printed as "thread k tid N" for the test.
 *
 * CR_CORRUPT=1 swaps the tickets on the stacks of threads 3 and 4.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "workload.h"

#define NR_WAITERS	10
#define NR_THREADS	(NR_WAITERS + 1)	/* the last one waits on the condition */
#define DEADLINE	60.0

static pthread_t threads[NR_THREADS];
static pid_t tids[NR_THREADS];

/* The mutex main holds. */
static pthread_mutex_t big = PTHREAD_MUTEX_INITIALIZER;
static atomic_int arrived, passed_big;

/* The FIFO ticket lock. */
static atomic_int next_ticket, now_serving;
static volatile int *ticket_of[NR_WAITERS];
static int order[NR_WAITERS];
static atomic_int order_len;

/* The condition waiter. */
static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cv_go;
static atomic_int cv_waiting, cv_woke;


static long futex(atomic_int *word, int op, int val)
{
	return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static void ticket_wait(int ticket)
{
	int serving;

	while ((serving = atomic_load(&now_serving)) != ticket)
		futex(&now_serving, FUTEX_WAIT_PRIVATE, serving);
}

static void ticket_pass(void)
{
	atomic_fetch_add(&now_serving, 1);
	futex(&now_serving, FUTEX_WAKE_PRIVATE, INT_MAX);
}

static void *waiter_main(void *arg)
{
	const int k = (int)(long)arg;
	volatile int ticket = atomic_fetch_add(&next_ticket, 1);

	ticket_of[k] = &ticket;
	tids[k] = gettid();
	atomic_fetch_add(&arrived, 1);
	pthread_mutex_lock(&big);		/* here at checkpoint */
	atomic_fetch_add(&passed_big, 1);
	pthread_mutex_unlock(&big);
	WL_CHECK(gettid() == tids[k], "thread %d: tid %d, was %d", k, gettid(), tids[k]);
	ticket_wait(ticket);
	order[atomic_fetch_add(&order_len, 1)] = k;
	ticket_pass();
	return NULL;
}

static void *cond_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cv_lock);
	tids[NR_WAITERS] = gettid();
	atomic_store(&cv_waiting, 1);
	while (!cv_go)
		pthread_cond_wait(&cv, &cv_lock);	/* here at checkpoint */
	atomic_store(&cv_woke, 1);
	pthread_mutex_unlock(&cv_lock);
	WL_CHECK(gettid() == tids[NR_WAITERS], "cond waiter: tid %d, was %d", gettid(),
		tids[NR_WAITERS]);
	return NULL;
}

/* Is thread @tid of ours asleep in futex()? */
static int asleep_in_futex(pid_t tid)
{
	char path[64], buf[512], *state;
	FILE *f;
	long nr;
	int n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = 0;
	state = strrchr(buf, ')');
	if (!state || state[1] != ' ' || state[2] != 'S')
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	f = fopen(path, "r");
	if (!f)
		return errno == ENOENT;		/* no /proc/.../syscall: trust the state */
	n = fscanf(f, "%ld", &nr);
	fclose(f);
	return n == 1 && nr == SYS_futex;
}

static void wait_asleep(pid_t tid)
{
	while (!asleep_in_futex(tid))
		usleep(10000);
}

/* Poll until *@word is @value or DEADLINE seconds have passed. */
static int wait_until(atomic_int *word, int value, const char *what)
{
	double deadline = wl_now() + DEADLINE;

	while (atomic_load(word) != value) {
		if (wl_now() > deadline) {
			wl_fail("%s: still %d, expected %d after %.0f s", what, atomic_load(word),
				value, DEADLINE);
			return 0;
		}
		usleep(5000);
	}
	return 1;
}

int main(void)
{
	struct timespec deadline;
	sigset_t usr1;
	int last_ticket;

	wl_init();
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);	/* the threads inherit it blocked */

	pthread_mutex_lock(&big);
	atomic_store(&next_ticket, 1);		/* main holds ticket 0 */
	for (int k = 0; k < NR_WAITERS; k++) {
		if (pthread_create(&threads[k], NULL, waiter_main, (void *)(long)k)) {
			printf("FAIL: pthread_create %d\n", k);
			return 1;
		}
		while (atomic_load(&arrived) != k + 1)
			usleep(10000);
		wait_asleep(tids[k]);
	}
	if (pthread_create(&threads[NR_WAITERS], NULL, cond_main, NULL)) {
		printf("FAIL: pthread_create cond\n");
		return 1;
	}
	while (!atomic_load(&cv_waiting))
		usleep(10000);
	wait_asleep(tids[NR_WAITERS]);
	last_ticket = atomic_fetch_add(&next_ticket, 1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	for (int k = 0; k < NR_THREADS; k++)
		printf("thread %d tid %d\n", k, tids[k]);
	wl_ready();
	wl_wait_verify();

	WL_CHECK(!atomic_load(&passed_big), "%d threads got the mutex main holds",
		 atomic_load(&passed_big));
	WL_CHECK(!atomic_load(&order_len) && atomic_load(&now_serving) == 0,
		 "%d threads got past the ticket lock main holds", atomic_load(&order_len));
	WL_CHECK(!atomic_load(&cv_woke), "the condition waiter woke without its predicate");
	if (wl_failures)
		return 1;
	if (wl_corrupt()) {
		int t = *ticket_of[3];

		*ticket_of[3] = *ticket_of[4];
		*ticket_of[4] = t;
	}

	pthread_mutex_lock(&cv_lock);
	cv_go = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&cv_lock);
	if (!wait_until(&cv_woke, 1, "the condition waiter woken"))
		return 1;

	pthread_mutex_unlock(&big);
	if (!wait_until(&passed_big, NR_WAITERS, "threads that got the mutex"))
		return 1;

	ticket_pass();
	if (!wait_until(&now_serving, last_ticket, "the ticket lock's turn"))
		return 1;
	for (int k = 0; k < NR_WAITERS; k++) {
		if (order[k] != k) {
			char got[128];
			int len = 0;

			for (int j = 0; j < NR_WAITERS; j++)
				len += snprintf(got + len, sizeof(got) - len, " %d", order[j]);
			wl_fail("served in the order%s, expected 0..%d", got, NR_WAITERS - 1);
			break;
		}
	}

	/* One deadline for all the joins: the harness waits for us only so long. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)DEADLINE;
	for (int k = 0; k < NR_THREADS; k++) {
		int err = pthread_timedjoin_np(threads[k], NULL, &deadline);

		WL_CHECK(!err, "thread %d (tid %d): join: %s", k, tids[k], strerror(err));
	}
	return wl_finish();
}
