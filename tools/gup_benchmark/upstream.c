// SPDX-License-Identifier: GPL-2.0
/*
 * Upstream mode: the command line and the output lines of upstream's
 * gup_test selftest, so that scripts written for it keep working. The
 * behaviour is upstream's; the code is this project's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
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

/* Upstream's commands, by the names its output uses. */
struct upstream_command {
	unsigned long cmd;
	const char *name;
	bool timed;	/* prints get/put times, once per repeat */
};

static const struct upstream_command commands[] = {
	{ GUP_FAST_BENCHMARK,		"GUP_FAST_BENCHMARK",		true },
	{ PIN_FAST_BENCHMARK,		"PIN_FAST_BENCHMARK",		true },
	{ PIN_LONGTERM_BENCHMARK,	"PIN_LONGTERM_BENCHMARK",	true },
	{ GUP_BASIC_TEST,		"GUP_BASIC_TEST",		false },
	{ PIN_BASIC_TEST,		"PIN_BASIC_TEST",		false },
	{ DUMP_USER_PAGES_TEST,		"DUMP_USER_PAGES_TEST",		false },
};

static const struct upstream_command unknown_command = {
	0, "Unknown command", false
};

struct worker {
	const struct upstream_options *u;
	const struct upstream_command *c;
	int fd;
	pthread_t tid;
};

/* Workers print whole lines, one at a time. */
static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

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

static const struct upstream_command *command_of(unsigned long cmd)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == cmd)
			return &commands[i];
	return &unknown_command;
}

/*
 * One line per call: the times of a timed command, "done" of the others;
 * either says when the module did less than asked.
 */
static void report(const struct worker *w, const struct gup_test *res)
{
	bool short_of = res->size != w->u->size;

	pthread_mutex_lock(&output_lock);
	if (w->c->timed) {
		printf("%s: Time: get:%llu put:%llu us%s", w->c->name,
		       (unsigned long long)res->get_delta_usec,
		       (unsigned long long)res->put_delta_usec,
		       short_of ? ", truncated" : "");
		if (short_of)
			printf(" (size: %llu)", (unsigned long long)res->size);
		putchar('\n');
	} else {
		printf("%s: done\n", w->c->name);
		if (short_of)
			printf("Truncated (size: %llu)\n",
			       (unsigned long long)res->size);
	}
	pthread_mutex_unlock(&output_lock);
}

static void *worker_run(void *arg)
{
	const struct worker *w = arg;
	int calls = w->c->timed ? w->u->repeats : 1;
	struct gup_test res;

	while (calls-- > 0) {
		/* The module writes its results into the argument. */
		res = w->u->gup;
		res.size = w->u->size;
		if (ioctl(w->fd, w->u->cmd, &res)) {
			perror("ioctl");
			exit(1);
		}
		report(w, &res);
	}
	return NULL;
}

/*
 * Maps the file as asked, sets THP as asked and, unless -z leaves it to
 * the gup calls (FOLL_TOUCH), faults every page in. NULL on failure.
 */
static char *map_area(struct upstream_options *u)
{
	long page = getpagesize();
	unsigned long off;
	char *area;
	int fd;

	fd = open(u->file, O_RDWR | O_CREAT, 0600);
	if (fd < 0) {
		perror("open");
		return NULL;
	}
	area = mmap(NULL, u->size, PROT_READ | PROT_WRITE, u->map_flags, fd,
		    0);
	close(fd);
	if (area == MAP_FAILED) {
		perror("mmap");
		return NULL;
	}
	if (u->thp >= 0)
		madvise(area, u->size, u->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (u->touch)
		u->gup.gup_flags |= GUP_TEST_FOLL_TOUCH;
	else
		for (off = 0; off < u->size; off += page)
			area[off] = 0;
	return area;
}

int upstream_run(struct upstream_options *u)
{
	struct worker *workers;
	int fd, i, err;
	char *area;

	u->gup.nr_pages_per_call = u->nr_pages_per_call;
	if (u->write)
		u->gup.gup_flags |= GUP_TEST_FOLL_WRITE;
	fd = bench_open();
	if (fd < 0)
		return KSFT_SKIP;
	area = map_area(u);
	if (!area)
		return 1;
	u->gup.addr = (unsigned long)area;

	workers = calloc(u->nr_threads, sizeof(*workers));
	if (!workers) {
		perror("calloc");
		return 1;
	}
	for (i = 0; i < u->nr_threads; i++) {
		workers[i].u = u;
		workers[i].c = command_of(u->cmd);
		workers[i].fd = fd;
		err = pthread_create(&workers[i].tid, NULL, worker_run,
				     &workers[i]);
		if (err) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	for (i = 0; i < u->nr_threads; i++)
		pthread_join(workers[i].tid, NULL);
	free(workers);
	return 0;
}
