/* SPDX-License-Identifier: GPL-2.0 */
#ifndef GUP_BENCHMARK_UPSTREAM_H
#define GUP_BENCHMARK_UPSTREAM_H

#include "gup_test_abi.h"

/* Upstream gup_test's options, with its defaults and meanings. */
struct upstream_options {
	unsigned long cmd;		/* GUP_FAST_BENCHMARK, ... */
	struct gup_test gup;		/* gup_flags, test_flags, which_pages */
	unsigned long size;
	int repeats;
	int nr_pages_per_call;
	int nr_threads;
	int thp;			/* -1: leave, 0: NOHUGEPAGE, 1: HUGEPAGE */
	int write;
	int touch;			/* -z: fault in by FOLL_TOUCH in gup */
	int map_flags;
	const char *file;
};

void upstream_defaults(struct upstream_options *u);
/* Runs as upstream's gup_test does; returns the exit status. */
int upstream_run(struct upstream_options *u);

#endif /* GUP_BENCHMARK_UPSTREAM_H */
