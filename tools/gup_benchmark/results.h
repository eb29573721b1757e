/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One run of gup_benchmark in memory, its JSON form (schema in README) and
 * its comparison with a baseline run.
 */
#ifndef GUP_BENCHMARK_RESULTS_H
#define GUP_BENCHMARK_RESULTS_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "bench.h"
#include "numa.h"
#include "provenance.h"
#include "stats.h"

#define RESULTS_SCHEMA	"gup_benchmark/1"

/* One configuration of a sweep and what measuring it gave. */
struct run_point {
	const struct pin_method *method;
	enum page_type type;
	unsigned long size;
	unsigned int nr_pages_per_call;
	char *skipped;			/* why there are no samples */
	long huge_bytes;		/* -1: unknown */
	long node_pages[MAX_NODES];	/* where the pages landed */
	bool nodes_known;
	struct bench_sample *warmup, *samples;
	size_t nr_warmup, nr_samples;
};

struct run {
	char *sysname, *release, *version, *machine, *date;
	unsigned int reps, warmup;
	bool write, shared, prefault;
	char *file;			/* NULL: anonymous */
	int node;			/* -1: no placement */
	long bench_delay_ns;		/* -1: unknown */
	unsigned long page_size, huge_page_size;
	struct provenance prov;		/* what produced the run */
	struct run_point *points;
	size_t nr_points;
};

/* "pup_fast thp 64M npc=32", plus what sets the run apart, for matching. */
void point_label(const struct run *r, const struct run_point *p,
		 char *buf, size_t len);
/* Per-page times of a point's samples; returns how many. */
size_t point_ns_per_page(const struct run_point *p, bool unpin, double *out);
/* The point of r whose point_label() is label, or NULL. */
const struct run_point *run_find_point(const struct run *r, const char *label);

int run_write_json(const struct run *r, const char *path);
int run_read_json(struct run *r, const char *path);
/*
 * Fills r from one parsed gup_benchmark/1 object; path names it in error
 * messages. Returns 0 or -errno, with r left empty.
 */
int run_from_json(json_object *o, struct run *r, const char *path);
void run_free(struct run *r);

void run_print_table(const struct run *r, FILE *f);
/* Prints the verdict table; returns the number of regressions. */
int run_compare(const struct run *base, const struct run *cur,
		const struct compare_policy *policy, FILE *f);
/*
 * The same for runs measured as pairs, sample i of cur beside sample i of
 * base (an A/B run): Wilcoxon signed-rank test and Hodges-Lehmann change
 * of the log ratios. Returns the number of regressions, or -EINVAL when a
 * configuration has not as many samples in both.
 */
int run_compare_paired(const struct run *base, const struct run *cur,
		       const struct compare_policy *policy, FILE *f);

#endif /* GUP_BENCHMARK_RESULTS_H */
