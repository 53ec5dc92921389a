// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials and privilege restrictions survive C/R exactly: real,
 * effective, saved and fs uids and gids, the supplementary groups, the
 * five capability sets, securebits, no_new_privs and a seccomp filter.
 * Run it under setpriv(1) as the user and with the groups and
 * capabilities a test wants; it records what it has at start and after
 * restart checks that nothing changed.
 *
 *   privs [--nnp] [--seccomp] [--non-dumpable] [--drop-setuid] [--check-dumpable] [--file PATH]
 *
 * --nnp sets no_new_privs; --seccomp also installs a filter that makes
 * sysinfo(2) fail with EDOM (a restored process without it would be
 * escaping its sandbox); --non-dumpable clears the dumpable flag;
 * --drop-setuid makes a set-uid run drop its privileges (all uids the
 * real one, dumpable again); --check-dumpable also checks the dumpable
 * flag (ptrace and checkpoint by the process's own user depend on it); --file PATH opens PATH read-write and maps
 * its first page MAP_SHARED, writable: after restart the mapping and the
 * fd still reach the file.
 *
 * Before READY it prints one line "CREDS ..." the test can compare with
 * /proc/PID/status.
 */
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>

#include "workload.h"

struct privs {
	uid_t ruid, euid, suid, fsuid;
	gid_t rgid, egid, sgid, fsgid;
	int ngroups;
	gid_t groups[64];
	uint64_t cap_eff, cap_prm, cap_inh, cap_bnd, cap_amb;
	int securebits, nnp, seccomp, dumpable;
};

static void read_privs(struct privs *p)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	memset(p, 0, sizeof(*p));
	getresuid(&p->ruid, &p->euid, &p->suid);
	getresgid(&p->rgid, &p->egid, &p->sgid);
	p->fsuid = setfsuid(-1);
	p->fsgid = setfsgid(-1);
	p->ngroups = getgroups(64, p->groups);
	syscall(SYS_capget, &hdr, data);
	p->cap_eff = data[0].effective | (uint64_t)data[1].effective << 32;
	p->cap_prm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	p->cap_inh = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
	for (int c = 0; c < 64; c++) {
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			p->cap_bnd |= 1ULL << c;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
			p->cap_amb |= 1ULL << c;
	}
	p->securebits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	p->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	p->seccomp = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	p->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
}

static void print_privs(const char *what, const struct privs *p)
{
	printf("%s uid=%u,%u,%u,%u gid=%u,%u,%u,%u groups=", what, p->ruid, p->euid, p->suid,
	       p->fsuid, p->rgid, p->egid, p->sgid, p->fsgid);
	for (int i = 0; i < p->ngroups; i++)
		printf("%s%u", i ? "," : "", p->groups[i]);
	printf(" cap_eff=%llx cap_prm=%llx cap_inh=%llx cap_bnd=%llx cap_amb=%llx", (unsigned long long)p->cap_eff,
	       (unsigned long long)p->cap_prm, (unsigned long long)p->cap_inh, (unsigned long long)p->cap_bnd,
	       (unsigned long long)p->cap_amb);
	printf(" securebits=%d nnp=%d seccomp=%d dumpable=%d\n", p->securebits, p->nnp, p->seccomp, p->dumpable);
}

static int install_filter(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sysinfo, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EDOM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

static int sysinfo_blocked(void)
{
	struct sysinfo si;

	return syscall(SYS_sysinfo, &si) < 0 && errno == EDOM;
}

int main(int argc, char **argv)
{
	int nnp = 0, filter = 0, non_dumpable = 0, drop = 0, check_dumpable = 0, fd = -1;
	const char *path = NULL;
	struct privs before, after;
	char *map = NULL, buf[16];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--nnp"))
			nnp = 1;
		else if (!strcmp(argv[i], "--seccomp"))
			nnp = filter = 1;
		else if (!strcmp(argv[i], "--non-dumpable"))
			non_dumpable = 1;
		else if (!strcmp(argv[i], "--drop-setuid"))
			drop = 1;
		else if (!strcmp(argv[i], "--check-dumpable"))
			check_dumpable = 1;
		else if (!strcmp(argv[i], "--file") && i + 1 < argc)
			path = argv[++i];
		else {
			fprintf(stderr, "privs: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	wl_init();
	if (drop) {
		uid_t r = getuid();
		gid_t g = getgid();

		if (setresgid(g, g, g) || setresuid(r, r, r) || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) {
			printf("FAIL: cannot drop privileges: %s\n", strerror(errno));
			return 1;
		}
	}
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		printf("FAIL: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
		return 1;
	}
	if (filter && (install_filter() || !sysinfo_blocked())) {
		printf("FAIL: the seccomp filter does not work: %s\n", strerror(errno));
		return 1;
	}
	if (non_dumpable && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		printf("FAIL: PR_SET_DUMPABLE: %s\n", strerror(errno));
		return 1;
	}
	if (path) {
		fd = open(path, O_RDWR);
		map = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			printf("FAIL: cannot open and map %s: %s\n", path, strerror(errno));
			return 1;
		}
		memcpy(map, "before", 6);
	}
	read_privs(&before);
	print_privs("CREDS", &before);
	wl_ready();
	wl_wait_verify();

	read_privs(&after);
	print_privs("CREDS after", &after);
	if (wl_corrupt())
		after.euid ^= 1;
	WL_CHECK(before.ruid == after.ruid && before.euid == after.euid && before.suid == after.suid &&
		 before.fsuid == after.fsuid, "uids changed");
	WL_CHECK(before.rgid == after.rgid && before.egid == after.egid && before.sgid == after.sgid &&
		 before.fsgid == after.fsgid, "gids changed");
	WL_CHECK(before.ngroups == after.ngroups &&
		 !memcmp(before.groups, after.groups, sizeof(gid_t) * (before.ngroups > 0 ? before.ngroups : 0)),
		 "supplementary groups changed");
	WL_CHECK(before.cap_eff == after.cap_eff && before.cap_prm == after.cap_prm &&
		 before.cap_inh == after.cap_inh && before.cap_amb == after.cap_amb,
		 "capabilities changed");
	WL_CHECK(before.cap_bnd == after.cap_bnd, "bounding set changed");
	WL_CHECK(before.securebits == after.securebits, "securebits changed");
	WL_CHECK(before.nnp == after.nnp, "no_new_privs %d, was %d", after.nnp, before.nnp);
	WL_CHECK(before.seccomp == after.seccomp, "seccomp mode %d, was %d", after.seccomp, before.seccomp);
	if (filter)
		WL_CHECK(sysinfo_blocked(), "the seccomp filter is gone: sysinfo(2) works again");
	if (check_dumpable)
		WL_CHECK(before.dumpable == after.dumpable, "dumpable %d, was %d", after.dumpable, before.dumpable);
	if (map) {
		WL_CHECK(!memcmp(map, "before", 6), "the shared mapping lost its bytes");
		memcpy(map, "after!", 6);
		memset(buf, 0, sizeof(buf));
		WL_CHECK(pread(fd, buf, 6, 0) == 6 && !memcmp(buf, "after!", 6),
			 "a write through the shared mapping does not reach the file");
	}
	return wl_finish();
}
