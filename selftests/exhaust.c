// SPDX-License-Identifier: GPL-2.0
/*
 * A pin request for more memory than the machine has: a write pin of an
 * anonymous range as large as the module allows (max_pages_total, at most
 * 2^20 pages) when that is more than MemTotal less the hugetlb pool, which
 * the case grows first until about 512 MiB is free. Faulting it in must
 * end in an errno returned to the requester or in the OOM killer choosing
 * the requester, and no other process; either way every pin is released
 * and the pin ledger balances. Which of the two happened is printed: it is
 * the kernel's choice, not ours.
 *
 * Swap is off for the case. With it on, the request stalled in page
 * allocation for minutes (7.3-rc7's debug build under TCG: "page
 * allocation stall for 281 secs", no OOM kill within 15 minutes), the
 * pinned pages on the inactive anonymous list and swap not full. Why
 * reclaim does not give up is not examined yet; here it would only stop
 * the suite.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

/* 2^20, the module's bound on both limits */
#define PAGES_MAX	(1024LL * 1024)

/*
 * The pids the OOM killer killed since the kmsg fd was opened at the end of
 * the log; -1 in kills[0] if the log cannot be read.
 */
static int oom_kills(int kmsg, pid_t *kills, int max)
{
	char rec[8192], *p;
	int n = 0;
	ssize_t len;

	if (kmsg < 0) {
		kills[0] = -1;
		return 1;
	}
	for (;;) {
		len = read(kmsg, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (len <= 0)
			break;
		rec[len] = 0;
		p = strstr(rec, "Killed process ");
		if (p && n < max)
			kills[n++] = atoi(p + strlen("Killed process "));
	}
	return n;
}

/* The requester: reports its errno on the pipe, or dies trying. */
static void request(int out, size_t nr_pages)
{
	size_t size = nr_pages * page_size;
	__u64 held = 0;
	__u32 id;
	char *addr;
	int fd, err;

	fd = gup_open();
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fd < 0 || addr == MAP_FAILED) {
		err = fd < 0 ? -fd : errno;
		dprintf(out, "setup %d\n", err);
		_exit(1);
	}
	madvise(addr, size, MADV_NOHUGEPAGE);
	err = -gup_pin(fd, addr, size, GUP_API_PUP, GUP_PIN_WRITE, &id, &held);
	dprintf(out, "pin %d %llu\n", err, (unsigned long long)held);
	_exit(0);
}

#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"
/* What the hugetlb pool leaves free for the request to run out of. */
#define LEAVE_KB	(512 * 1024LL)

#define MAX_SWAPS	4

FIXTURE(exhaust)
{
	long long per_file, total, hugepages;
	struct pin_ledger before;
	char swaps[MAX_SWAPS][128];	/* what swapoff() took away */
	int nr_swaps;
};

/* Switches off every swap area, each recorded in self. 0 or -errno. */
static int swaps_off(char (*swaps)[128], int *nr)
{
	char line[256], path[128];
	FILE *f = fopen("/proc/swaps", "r");
	int err = 0;

	*nr = 0;
	if (!f)
		return 0;
	/* Skip the header; a path with blanks is shown escaped as \040. */
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (!err && *nr < MAX_SWAPS && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s", path) != 1)
			continue;
		if (swapoff(path)) {
			err = -errno;
			break;
		}
		snprintf(swaps[(*nr)++], sizeof(swaps[0]), "%s", path);
	}
	fclose(f);
	return err;
}

/*
 * Grows the hugetlb pool until about LEAVE_KB is free, so that the request
 * runs out of memory after faulting in that much, not the whole machine:
 * quick under emulation and on a large machine alike. Returns the pool's
 * old size, or -1 if it cannot be read.
 */
static long long shrink_memory(void)
{
	long long old = -1, free_kb = meminfo("MemFree");
	long long huge_kb = hugetlb_size() >> 10;
	char val[32];
	FILE *f = fopen(NR_HUGEPAGES, "r");

	if (f) {
		if (fscanf(f, "%lld", &old) != 1)
			old = -1;
		fclose(f);
	}
	if (old < 0 || !huge_kb || free_kb <= LEAVE_KB)
		return old;
	snprintf(val, sizeof(val), "%lld",
		 old + (free_kb - LEAVE_KB) / huge_kb);
	write_value(NR_HUGEPAGES, val);
	return old;
}

/* Puts back what the set-up changed: swap, the pool, the limits. */
static void restore(FIXTURE_DATA(exhaust) * self)
{
	char val[32];
	int i;

	for (i = 0; i < self->nr_swaps; i++)
		swapon(self->swaps[i], 0);
	self->nr_swaps = 0;
	if (self->hugepages >= 0) {
		snprintf(val, sizeof(val), "%lld", self->hugepages);
		write_value(NR_HUGEPAGES, val);
	}
	self->hugepages = -1;
	if (self->per_file > 0)
		gup_set_param("max_pages_per_file", self->per_file);
	if (self->total > 0)
		gup_set_param("max_pages_total", self->total);
	self->per_file = -1;
	self->total = -1;
}

FIXTURE_SETUP(exhaust)
{
	int fd = gup_open(), err;

	self->per_file = -1;
	self->total = -1;
	self->hugepages = -1;
	self->nr_swaps = 0;
	if (gup_open_skip(fd))
		SETUP_SKIP(return, "%s", gup_open_skip(fd));
	ASSERT_LE(0, fd) TH_LOG("open gup_test: %s", strerror(-fd));
	close(fd);
	err = swaps_off(self->swaps, &self->nr_swaps);
	ASSERT_EQ(0, err) TH_LOG("swapoff: %s", strerror(-err));
	self->hugepages = shrink_memory();
	/* The hugetlb pool is memory no anonymous fault can have. */
	if ((meminfo("MemTotal") - (meminfo("Hugetlb") > 0 ?
				    meminfo("Hugetlb") : 0)) * 1024 >=
	    PAGES_MAX * (long long)page_size) {
		restore(self);
		SETUP_SKIP(return,
			   "MemTotal less the hugetlb pool is more than the module may pin (%lld pages)",
			   PAGES_MAX);
	}
	self->per_file = gup_param("max_pages_per_file");
	self->total = gup_param("max_pages_total");
	ASSERT_LT(0, self->per_file);
	ASSERT_LT(0, self->total);
	ASSERT_EQ(0, gup_set_param("max_pages_per_file", PAGES_MAX));
	ASSERT_EQ(0, gup_set_param("max_pages_total", PAGES_MAX));
	pin_ledger_read(&self->before);
}

FIXTURE_TEARDOWN(exhaust)
{
	restore(self);
}

TEST_F_TIMEOUT(exhaust, pin_beyond_memory, 600)
{
	char why[256] = "", line[128] = "";
	pid_t child, kills[16];
	unsigned long long held = 0;
	int pipefd[2], kmsg, status, err = -1, fields, n, i;
	ssize_t len;

	SETUP_SKIPPED(return);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	ASSERT_EQ(0, pipe(pipefd));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		close(pipefd[0]);
		request(pipefd[1], PAGES_MAX);
	}
	close(pipefd[1]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	len = read(pipefd[0], line, sizeof(line) - 1);
	close(pipefd[0]);
	if (len > 0)
		line[len] = 0;

	if (WIFSIGNALED(status)) {
		ASSERT_EQ(SIGKILL, WTERMSIG(status));
		gup_report("exhaust: requester OOM-killed during the pin\n");
	} else {
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
			TH_LOG("requester: %s", line);
		fields = sscanf(line, "pin %d %llu", &err, &held);
		ASSERT_EQ(2, fields) TH_LOG("requester said: %s", line);
		/* Errors that say "no memory" or "interrupted by the kill". */
		ASSERT_TRUE(err == ENOMEM || err == EINTR || err == EFAULT ||
			    (err == 0 && held < PAGES_MAX))
			TH_LOG("pin of %lld pages: errno %d, %llu held",
			       PAGES_MAX, err, held);
		gup_report("exhaust: requester got errno %d (%s), %llu held\n",
			   err, strerror(err), held);
	}

	n = oom_kills(kmsg, kills, ARRAY_SIZE(kills));
	if (kmsg >= 0)
		close(kmsg);
	for (i = 0; i < n; i++)
		ASSERT_EQ(child, kills[i])
			TH_LOG("the OOM killer killed pid %d, not the requester %d",
			       kills[i], child);
	if (WIFSIGNALED(status))
		ASSERT_LT(0, n) TH_LOG("SIGKILL without an OOM kill in the log");
	ASSERT_EQ(0, pin_ledger_check(&self->before, why, sizeof(why)))
		TH_LOG("after the exhaustion: %s", why);
}

TEST_HARNESS_MAIN
