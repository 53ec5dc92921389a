// SPDX-License-Identifier: GPL-2.0
/* The demo's sample workload: a numbered tick every 200 ms, forever. */
#include "workload.h"

int main(void)
{
	struct timespec period = { 0, 200 * 1000 * 1000 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long n = 0;; n++) {
		printf("tick %lu (pid %d)\n", n, getpid());
		nanosleep(&period, NULL);
	}
}
