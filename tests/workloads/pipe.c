// SPDX-License-Identifier: GPL-2.0
/*
 * A pipe holding 60 KiB, both ends in the process, comes back with the
 * same bytes, its enlarged capacity and O_NONBLOCK on the write end only.
 */
#include <fcntl.h>
#include "workload.h"

#define DATA	(60 * 1024)

int main(void)
{
	static char data[DATA], back[DATA + 16];
	int p[2];
	ssize_t n, got = 0;

	wl_init();
	if (pipe(p))
		return printf("FAIL: pipe\n"), 1;
	fcntl(p[1], F_SETPIPE_SZ, 128 * 1024);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	for (int i = 0; i < DATA; i++)
		data[i] = (char)(i * 31 + i / 1000);
	/* Several writes, so the ring holds several partly filled buffers. */
	for (int off = 0; off < DATA; off += 7000)
		write(p[1], data + off, off + 7000 > DATA ? DATA - off : 7000);
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		write(p[1], "x", 1);
	WL_CHECK(fcntl(p[1], F_GETPIPE_SZ) == 128 * 1024, "capacity %d", fcntl(p[1], F_GETPIPE_SZ));
	WL_CHECK(fcntl(p[1], F_GETFL) & O_NONBLOCK, "the write end lost O_NONBLOCK");
	WL_CHECK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK), "the read end became O_NONBLOCK");
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	while ((n = read(p[0], back + got, sizeof(back) - got)) > 0)
		got += n;
	WL_CHECK(got == DATA, "the pipe held %zd bytes, expected %d", got, DATA);
	WL_CHECK(!memcmp(back, data, DATA), "the pipe's bytes differ");
	return wl_finish();
}
