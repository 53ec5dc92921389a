// SPDX-License-Identifier: GPL-2.0
/*
 * Registers and FPU state survive a checkpoint taken in the middle of a
 * computation: SSE accumulators held in xmm registers, x87 long doubles,
 * and a non-default rounding mode. The result after restart equals the
 * same computation run again without interruption.
 */
#include <fenv.h>
#include <immintrin.h>
#include "workload.h"

struct result {
	__m128d acc[4];
	long double x87;
	unsigned long iterations;
};

/* Keep going until asked to stop, or for exactly @iterations if non-zero. */
static __attribute__((noinline)) void compute(struct result *r, unsigned long iterations)
{
	__m128d a0 = _mm_set1_pd(1.0), a1 = _mm_set1_pd(2.0), a2 = _mm_set1_pd(3.0), a3 = _mm_set1_pd(4.0);
	const __m128d m = _mm_set1_pd(1.0000001), d = _mm_set1_pd(0.9999999);
	long double x = 1.0L;
	unsigned long i;

	for (i = 0; iterations ? i < iterations : !wl_verify_requested; i++) {
		a0 = _mm_mul_pd(a0, m);
		a1 = _mm_add_pd(_mm_mul_pd(a1, d), a0);
		a2 = _mm_sub_pd(_mm_mul_pd(a2, m), a1);
		a3 = _mm_add_pd(a3, _mm_mul_pd(a2, d));
		x = x * 1.0000001L + 1e-9L;
	}
	r->acc[0] = a0;
	r->acc[1] = a1;
	r->acc[2] = a2;
	r->acc[3] = a3;
	r->x87 = x;
	r->iterations = i;
}

int main(void)
{
	struct result interrupted, again;

	wl_init();
	fesetround(FE_TOWARDZERO);
	wl_ready();
	compute(&interrupted, 0);
	WL_CHECK(fegetround() == FE_TOWARDZERO, "the rounding mode changed");
	compute(&again, interrupted.iterations);
	if (wl_corrupt())
		again.x87 += 1;
	WL_CHECK(!memcmp(interrupted.acc, again.acc, sizeof(again.acc)), "the SSE accumulators differ");
	WL_CHECK(interrupted.x87 == again.x87, "the x87 result differs");
	printf("%lu iterations\n", interrupted.iterations);
	return wl_finish();
}
