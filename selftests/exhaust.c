// SPDX-License-Identifier: GPL-2.0
/*
 * A pin request for more memory than the machine has: a write pin of an
 * anonymous range as large as the module allows (max_pages_total, at most
 * 2^20 pages) when that is more than MemTotal. Faulting it in must end in
 * an errno returned to the requester or in the OOM killer choosing the
 * requester, and no other process; either way every pin is released and
 * the pin ledger balances. Which of the two happened is printed: it is the
 * kernel's choice, not ours.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

FIXTURE(exhaust)
{
	long long per_file, total;
	struct pin_ledger before;
};

FIXTURE_SETUP(exhaust)
{
	int fd = gup_open();

	self->per_file = -1;
	self->total = -1;
	if (gup_open_skip(fd))
		SETUP_SKIP(return, "%s", gup_open_skip(fd));
	ASSERT_LE(0, fd) TH_LOG("open gup_test: %s", strerror(-fd));
	close(fd);
	if (meminfo("MemTotal") * 1024 >= PAGES_MAX * (long long)page_size)
		SETUP_SKIP(return, "MemTotal is more than the module may pin (%lld pages)",
			   PAGES_MAX);
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
	if (self->per_file > 0)
		gup_set_param("max_pages_per_file", self->per_file);
	if (self->total > 0)
		gup_set_param("max_pages_total", self->total);
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
