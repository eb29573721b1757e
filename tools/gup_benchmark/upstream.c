// SPDX-License-Identifier: GPL-2.0
/*
 * Upstream mode: tools/testing/selftests/vm/gup_test.c's behaviour and
 * output lines, so that scripts written for it keep working.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include "upstream.h"

#define KSFT_SKIP	4
#define MB		(1UL << 20)

struct upstream_thread {
	const struct upstream_options *u;
	int fd;
	pthread_t tid;
};

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

void upstream_defaults(struct upstream_options *u)
{
	memset(u, 0, sizeof(*u));
	u->cmd = GUP_FAST_BENCHMARK;
	u->size = 128 * MB;
	u->repeats = 1;
	u->nr_pages_per_call = 1;
	u->nr_threads = 1;
	u->thp = -1;
	u->write = 1;
	u->map_flags = MAP_PRIVATE;
	u->file = "/dev/zero";
}

static const char *cmd_name(unsigned long cmd)
{
	switch (cmd) {
	case GUP_FAST_BENCHMARK:
		return "GUP_FAST_BENCHMARK";
	case PIN_FAST_BENCHMARK:
		return "PIN_FAST_BENCHMARK";
	case PIN_LONGTERM_BENCHMARK:
		return "PIN_LONGTERM_BENCHMARK";
	case GUP_BASIC_TEST:
		return "GUP_BASIC_TEST";
	case PIN_BASIC_TEST:
		return "PIN_BASIC_TEST";
	case DUMP_USER_PAGES_TEST:
		return "DUMP_USER_PAGES_TEST";
	}
	return "Unknown command";
}

static bool is_benchmark(unsigned long cmd)
{
	return cmd == GUP_FAST_BENCHMARK || cmd == PIN_FAST_BENCHMARK ||
	       cmd == PIN_LONGTERM_BENCHMARK;
}

/* One ioctl on a private copy: the module writes the times into it. */
static void gup_once(const struct upstream_thread *t, struct gup_test *gup)
{
	*gup = t->u->gup;
	gup->size = t->u->size;
	if (ioctl(t->fd, t->u->cmd, gup)) {
		perror("ioctl");
		exit(1);
	}
}

static void *gup_thread(void *arg)
{
	const struct upstream_thread *t = arg;
	const struct upstream_options *u = t->u;
	struct gup_test gup;
	int i;

	if (!is_benchmark(u->cmd)) {
		gup_once(t, &gup);
		pthread_mutex_lock(&print_lock);
		printf("%s: done\n", cmd_name(u->cmd));
		if (gup.size != u->size)
			printf("Truncated (size: %llu)\n",
			       (unsigned long long)gup.size);
		pthread_mutex_unlock(&print_lock);
		return NULL;
	}
	for (i = 0; i < u->repeats; i++) {
		gup_once(t, &gup);
		pthread_mutex_lock(&print_lock);
		printf("%s: Time: get:%llu put:%llu us", cmd_name(u->cmd),
		       (unsigned long long)gup.get_delta_usec,
		       (unsigned long long)gup.put_delta_usec);
		if (gup.size != u->size)
			printf(", truncated (size: %llu)",
			       (unsigned long long)gup.size);
		printf("\n");
		pthread_mutex_unlock(&print_lock);
	}
	return NULL;
}

int upstream_run(struct upstream_options *u)
{
	struct upstream_thread *threads;
	int file_fd, gup_fd, i, err;
	long page = getpagesize();
	unsigned long off;
	char *p;

	file_fd = open(u->file, O_RDWR | O_CREAT, 0600);
	if (file_fd < 0) {
		perror("open");
		return 1;
	}
	u->gup.nr_pages_per_call = u->nr_pages_per_call;
	if (u->write)
		u->gup.gup_flags |= GUP_TEST_FOLL_WRITE;

	gup_fd = bench_open();
	if (gup_fd < 0)
		return KSFT_SKIP;

	p = mmap(NULL, u->size, PROT_READ | PROT_WRITE, u->map_flags,
		 file_fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	u->gup.addr = (unsigned long)p;
	if (u->thp == 1)
		madvise(p, u->size, MADV_HUGEPAGE);
	else if (u->thp == 0)
		madvise(p, u->size, MADV_NOHUGEPAGE);

	/* -z leaves faulting in to gup itself, to compare the two ways. */
	if (u->touch)
		u->gup.gup_flags |= GUP_TEST_FOLL_TOUCH;
	else
		for (off = 0; off < u->size; off += page)
			p[off] = 0;

	threads = calloc(u->nr_threads, sizeof(*threads));
	if (!threads) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < u->nr_threads; i++) {
		threads[i].u = u;
		threads[i].fd = gup_fd;
		err = pthread_create(&threads[i].tid, NULL, gup_thread,
				     &threads[i]);
		if (err) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	for (i = 0; i < u->nr_threads; i++)
		pthread_join(threads[i].tid, NULL);
	free(threads);
	return 0;
}
