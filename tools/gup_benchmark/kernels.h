/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One sweep measured on several kernels, several boots each: a Markdown
 * report of each kernel's ns/page, its boot-to-boot spread and its change
 * against the first kernel, and a plot of the same (README: --across).
 */
#ifndef GUP_BENCHMARK_KERNELS_H
#define GUP_BENCHMARK_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "stats.h"

/* A kernel's file: its name and one gup_benchmark/1 run per boot. */
#define KERNELS_SCHEMA	"gup_benchmark-boots/1"
/* tools/gup_benchmark/insn/count's run-N.json, a kernel file's "insns" */
#define INSN_SCHEMA	"gup_insn/1"

/*
 * Reads the files at paths, the first one the baseline, prints the report
 * on stdout and, unless plot is NULL, draws it there. policy->threshold is
 * the change a verdict needs. Boots whose accelerator or host CPU differ
 * from the first boot's are refused unless allow_hosts. Returns the exit
 * status: 0, or 1 on an error.
 */
int kernels_main(char *const *paths, size_t nr,
		 const struct compare_policy *policy, const char *plot,
		 bool allow_hosts);

#endif /* GUP_BENCHMARK_KERNELS_H */
