// SPDX-License-Identifier: GPL-2.0
/*
 * 64 MiB of patterned anonymous memory and a sparse 1 GiB mapping with a
 * few pages touched come back byte-identical; untouched pages read zero.
 */
#include <stdint.h>
#include <sys/mman.h>
#include "workload.h"

#define BIG	(64UL << 20)
#define SPARSE	(1UL << 30)
#define STRIDE	(128UL << 20)

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 12) * 13 + 1);
}

int main(void)
{
	uint8_t *big, *sparse;

	wl_init();
	big = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sparse = mmap(NULL, SPARSE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (big == MAP_FAILED || sparse == MAP_FAILED)
		return printf("FAIL: mmap: %s\n", strerror(errno)), 1;
	for (size_t i = 0; i < BIG; i++)
		big[i] = pattern(i);
	for (size_t k = 0; k < SPARSE / STRIDE; k++)
		sparse[k * STRIDE + k * 8] = (uint8_t)(0xa0 + k);
	printf("big %p sparse %p\n", (void *)big, (void *)sparse);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		big[BIG / 2] ^= 1;
	for (size_t i = 0; i < BIG; i++)
		if (big[i] != pattern(i)) {
			wl_fail("big[%zu] = %#x, expected %#x", i, big[i], pattern(i));
			break;
		}
	for (size_t k = 0; k < SPARSE / STRIDE; k++) {
		WL_CHECK(sparse[k * STRIDE + k * 8] == (uint8_t)(0xa0 + k), "sparse page %zu lost its byte", k);
		WL_CHECK(sparse[k * STRIDE + 4096 + 1] == 0, "sparse untouched page %zu is not zero", k);
	}
	return wl_finish();
}
