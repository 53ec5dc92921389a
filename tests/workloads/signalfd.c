// SPDX-License-Identifier: GPL-2.0
/*
 * A signalfd keeps its mask, its flags and the signal waiting for it.
 * SIGUSR2, SIGRTMIN and SIGHUP are blocked; the signalfd (SFD_NONBLOCK |
 * SFD_CLOEXEC) takes SIGUSR2 and SIGRTMIN only. Before READY one SIGRTMIN
 * with value 5 is queued and left unread.
 *
 * After restart the fd is still O_NONBLOCK and FD_CLOEXEC; the first read
 * gives the pending SIGRTMIN (value 5, SI_QUEUE, sent by this pid) and
 * nothing else is there. Then SIGUSR2, SIGRTMIN with value 77 and SIGHUP
 * are sent: the signalfd gives the first two, not SIGHUP, which stays
 * pending for the task. "signalfd fd N" is printed for a test to read
 * the mask in /proc/PID/fdinfo.
 *
 * CR_CORRUPT=1 reads the pending signal away before verifying.
 */
#include <fcntl.h>
#include <sys/signalfd.h>

#include "workload.h"

/* One signal from @fd, or 0 if there is none (errno says why). */
static int next(int fd, struct signalfd_siginfo *si)
{
	memset(si, 0, sizeof(*si));
	return read(fd, si, sizeof(*si)) == sizeof(*si) ? (int)si->ssi_signo : 0;
}

int main(void)
{
	struct timespec zero = { 0, 0 };
	struct signalfd_siginfo si;
	sigset_t block, mask, pending;
	int fd, flags, got_usr2 = 0, got_rt = 0;

	wl_init();
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGRTMIN);
	block = mask;
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0 || sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = 5 })) {
		printf("FAIL: setup: %s\n", strerror(errno));
		return 1;
	}
	printf("signalfd fd %d\n", fd);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		next(fd, &si);
	flags = fcntl(fd, F_GETFL);
	WL_CHECK(flags >= 0 && (flags & O_NONBLOCK), "the signalfd lost O_NONBLOCK (flags %#x)", flags);
	WL_CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC, "the signalfd lost FD_CLOEXEC");

	/* The signal queued before the checkpoint comes first. */
	if (next(fd, &si) != SIGRTMIN)
		wl_fail("the pending SIGRTMIN is gone (read gave signal %u: %s)", si.ssi_signo,
			strerror(errno));
	else
		WL_CHECK(si.ssi_int == 5 && si.ssi_code == SI_QUEUE && (pid_t)si.ssi_pid == getpid(),
			 "the pending SIGRTMIN has value %d, code %d, pid %u; expected 5, %d, %d",
			 si.ssi_int, si.ssi_code, si.ssi_pid, SI_QUEUE, getpid());
	errno = 0;
	WL_CHECK(next(fd, &si) == 0 && errno == EAGAIN,
		 "after the pending signal the signalfd gave signal %u (%s)", si.ssi_signo,
		 strerror(errno));

	/* New signals: the two in its mask come through it, SIGHUP does not. */
	kill(getpid(), SIGUSR2);
	sigqueue(getpid(), SIGRTMIN, (union sigval){ .sival_int = 77 });
	kill(getpid(), SIGHUP);
	for (int i = 0; i < 2; i++) {
		int sig = next(fd, &si);

		if (sig == SIGUSR2) {
			got_usr2++;
		} else if (sig == SIGRTMIN) {
			got_rt++;
			WL_CHECK(si.ssi_int == 77 && si.ssi_code == SI_QUEUE,
				 "the new SIGRTMIN has value %d and code %d, expected 77 and %d",
				 si.ssi_int, si.ssi_code, SI_QUEUE);
		} else {
			wl_fail("read %d from the signalfd gave signal %d (%s)", i, sig, strerror(errno));
		}
	}
	WL_CHECK(got_usr2 == 1 && got_rt == 1, "got SIGUSR2 %d times and SIGRTMIN %d times, expected once each",
		 got_usr2, got_rt);
	errno = 0;
	WL_CHECK(next(fd, &si) == 0 && errno == EAGAIN,
		 "the signalfd gave signal %u, outside its mask", si.ssi_signo);
	sigpending(&pending);
	WL_CHECK(sigismember(&pending, SIGHUP), "SIGHUP is not pending for the task");
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigtimedwait(&mask, NULL, &zero);
	return wl_finish();
}
