/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page a benchmark workload shares with the harness (a MAP_SHARED
 * file on tmpfs). The workload's stamping thread is its only writer but
 * for reset_req, which the harness bumps to start a new measurement.
 * bench/guest.py reads the same layout: keep them in step.
 */
#ifndef BENCH_STAMP_H
#define BENCH_STAMP_H
#include <stdint.h>

struct bench_stamp {
	uint64_t now_ns;	/* CLOCK_MONOTONIC at the latest stamp */
	uint64_t max_gap_ns;	/* largest gap between two stamps since the last reset */
	uint64_t reset_req;	/* harness: bump to start a new measurement */
	uint64_t reset_ack;	/* workload: the reset_req it has acted on */
	uint64_t loops;		/* stamps so far */
	uint64_t ready;		/* processes that have finished their setup */
	uint64_t pid;		/* the root, once READY */
};

#endif
