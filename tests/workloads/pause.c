// SPDX-License-Identifier: GPL-2.0
/*
 * A process checkpointed inside pause() is still inside it after restart:
 * the checkpoint and the restart do not make it return. pause() returns
 * only with EINTR once the SIGUSR1 handler has run.
 */
#include "workload.h"

int main(void)
{
	int ret, err;

	wl_init();
	wl_ready();
	ret = pause();
	err = errno;
	WL_CHECK(wl_verify_requested, "pause() returned (%d, %s) before SIGUSR1 arrived",
		 ret, strerror(err));
	WL_CHECK(ret == -1 && err == EINTR, "pause() returned %d (%s), not EINTR",
		 ret, strerror(err));
	if (wl_corrupt())
		wl_fail("corrupted on request");
	return wl_finish();
}
