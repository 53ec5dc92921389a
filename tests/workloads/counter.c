// SPDX-License-Identifier: GPL-2.0
/*
 * A counter loop survives C/R and keeps counting from where it was: it
 * says READY after its first report; after restart the count only went
 * up, and it went on counting after the restart.
 */
#include "workload.h"

int main(void)
{
	volatile unsigned long count = 0;
	unsigned long at_verify;

	wl_init();
	while (!wl_verify_requested) {
		count++;
		if (count % (1UL << 22) == 0) {
			printf("count %lu\n", count);
			/* READY once counting is under way: a checkpoint then always finds it past it. */
			if (count == 1UL << 22)
				wl_ready();
		}
	}
	at_verify = count;
	if (wl_corrupt())
		count = 0;
	/* The loop state is in memory and registers: it must keep counting. */
	for (int i = 0; i < 1000; i++)
		count++;
	WL_CHECK(count == at_verify + 1000, "count %lu, expected %lu", count, at_verify + 1000);
	WL_CHECK(at_verify > (1UL << 22), "count %lu never passed the first report", at_verify);
	printf("count at verify %lu\n", at_verify);
	return wl_finish();
}
