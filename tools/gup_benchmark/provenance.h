/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What produced a run: tools/provenance's KEY=VALUE facts (the commit, the
 * kernel's build, QEMU, the accelerator, the host) and what gup_benchmark
 * sees of the machine it runs on. Timings from different hosts or
 * accelerators do not compare: --compare and --across check these first.
 */
#ifndef GUP_BENCHMARK_PROVENANCE_H
#define GUP_BENCHMARK_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

struct provenance {
	char **key, **value;
	size_t nr;
};

/* Reads KEY=VALUE lines from path into p; 0 or -errno, having said why. */
int provenance_read(struct provenance *p, const char *path);
/* The value of key, or NULL. */
const char *provenance_get(const struct provenance *p, const char *key);
/* Sets key to value unless p has it already. */
void provenance_default(struct provenance *p, const char *key,
			const char *value);
/*
 * Adds what this process sees of its machine where p does not say it:
 * in a guest of tools/vm/run (accel kvm or tcg) its vCPUs and memory,
 * elsewhere the host's CPU, its count and accel "none", or "unknown" under
 * a hypervisor that is not ours.
 */
void provenance_observe(struct provenance *p);
void provenance_free(struct provenance *p);

/* An object of strings; NULL when p is empty. */
json_object *provenance_to_json(const struct provenance *p);
/* Fills p from such an object; members that are not strings are refused. */
int provenance_from_json(json_object *o, struct provenance *p,
			 const char *path);

/*
 * Whether runs a (named a_name) and b were measured alike: the same
 * accelerator and host CPU. Prints to f why not; a run that does not say
 * is taken as comparable, with a warning on f.
 */
bool provenance_comparable(const struct provenance *a, const char *a_name,
			   const struct provenance *b, const char *b_name,
			   FILE *f);
/*
 * Whether to compare runs that were (same) or were not measured alike: a
 * run under TCG is several times slower than under KVM, and hosts differ
 * as much, so a change between them says nothing of the kernel. allow
 * (--allow-different-hosts) compares them anyway, saying so on f; else
 * stderr says why not, naming what.
 */
bool provenance_verdict(bool same, bool allow, const char *what, FILE *f);

#endif /* GUP_BENCHMARK_PROVENANCE_H */
