// SPDX-License-Identifier: GPL-2.0
/*
 * Each kind of mapping round-trips with its data and protections: private
 * anonymous, read-only, PROT_NONE, executable code, the brk heap, a
 * MAP_GROWSDOWN region, shared anonymous memory, a private file mapping
 * with a copied-on-write page and a shared file mapping.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>
#include "workload.h"

static sigjmp_buf fault_jmp;

static void on_segv(int sig)
{
	siglongjmp(fault_jmp, sig);
}

/* Does touching @p fault? */
static int faults(volatile uint8_t *p, int write)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	int faulted = 0;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		if (write)
			*p = 1;
		else
			(void)*p;
	} else {
		faulted = 1;
	}
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

static const char *FILE_PATH = "/tmp/cr-vmas-file";

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *ro, *none, *code, *heap, *down, *shared, *priv, *shfile;
	/* mov eax, 42; ret */
	static const uint8_t code_bytes[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };
	char buf[64];
	int fd;

	wl_init();
	ro = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(ro, 0x5a, page);
	mprotect(ro, page, PROT_READ);
	none = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(code, code_bytes, sizeof(code_bytes));
	mprotect(code, page, PROT_READ | PROT_EXEC);
	heap = sbrk(4 * page);
	memset(heap, 0x77, 4 * page);
	down = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	memset(down + 2 * page, 0x33, page);
	shared = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 8; i += 2)
		memset(shared + i * page, 0x40 + i, page);

	fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; i < 4; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		pwrite(fd, buf, sizeof(buf), i * page);
	}
	ftruncate(fd, 4 * page);
	priv = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	priv[page + 1] = 'X';	/* copy-on-write: only this process sees it */
	shfile = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (ro == MAP_FAILED || none == MAP_FAILED || code == MAP_FAILED || down == MAP_FAILED ||
	    shared == MAP_FAILED || priv == MAP_FAILED || shfile == MAP_FAILED)
		return printf("FAIL: mmap: %s\n", strerror(errno)), 1;
	wl_ready();
	wl_wait_verify();

	if (wl_corrupt())
		heap[7] = 0;
	for (long i = 0; i < page; i++)
		if (ro[i] != 0x5a) {
			wl_fail("read-only page byte %ld changed", i);
			break;
		}
	WL_CHECK(faults(ro, 1), "a write to the read-only page did not fault");
	WL_CHECK(faults(none, 0), "a read of the PROT_NONE page did not fault");
	WL_CHECK(((int (*)(void))code)() == 42, "the code page does not run");
	WL_CHECK(faults(code, 1), "a write to the code page did not fault");
	for (long i = 0; i < 4 * page; i++)
		if (heap[i] != 0x77) {
			wl_fail("heap byte %ld is %#x", i, heap[i]);
			break;
		}
	WL_CHECK(sbrk(page) != (void *)-1, "the heap no longer grows: %s", strerror(errno));
	WL_CHECK(down[2 * page + 9] == 0x33 && down[0] == 0, "the MAP_GROWSDOWN region changed");
	for (int i = 0; i < 8; i++)
		WL_CHECK(shared[i * page + 3] == (i % 2 ? 0 : 0x40 + i), "shared anonymous page %d changed", i);
	WL_CHECK(priv[page + 1] == 'X', "the private file mapping lost its copied-on-write page");
	WL_CHECK(priv[2 * page] == 'c' && priv[0] == 'a', "the private file mapping lost the file's data");
	WL_CHECK(shfile[page + 1] == 'b', "the shared file mapping sees the private copy");
	shfile[3 * page] = 'Z';
	fd = open(FILE_PATH, O_RDONLY);
	WL_CHECK(pread(fd, buf, 1, 3 * page) == 1 && buf[0] == 'Z',
		 "a write through the shared file mapping does not reach the file");
	close(fd);
	return wl_finish();
}
