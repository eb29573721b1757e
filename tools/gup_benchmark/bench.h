/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory to pin and the GUP_BENCH ioctl, shared by gup_benchmark and
 * selftests/cost.c.
 */
#ifndef GUP_BENCHMARK_BENCH_H
#define GUP_BENCHMARK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "gup_test_abi.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define BENCH_DELAY_FILE "/sys/module/gup_test/parameters/bench_delay_ns"

/* Backing memory, set up as upstream's gup_test sets it up. */
enum page_type {
	PAGE_4K,		/* MADV_NOHUGEPAGE */
	PAGE_THP,		/* MADV_HUGEPAGE */
	PAGE_HUGETLB,		/* MAP_HUGETLB, default huge page size */
	/*
	 * Anonymous, in folios of the smallest multi-size THP size (6.8+):
	 * that size "always", every other size, the PMD's too, "never" while
	 * such memory is mapped.
	 */
	PAGE_MTHP,
	PAGE_TYPE_NR,
};

/* The types --sweep takes: upstream's three. */
#define PAGE_SWEEP_NR	(PAGE_HUGETLB + 1)

extern const char *const page_type_names[PAGE_TYPE_NR];
int page_type_by_name(const char *name);

/* A gup function and the FOLL_ flags that make it what it is. */
struct pin_method {
	const char *name;
	unsigned int api;	/* GUP_API_* */
	unsigned int flags;	/* GUP_PIN_LONGTERM or 0 */
};

extern const struct pin_method pin_methods[];
extern const size_t nr_pin_methods;
const struct pin_method *pin_method_by_name(const char *name);

struct bench_memory {
	char *addr;
	size_t size;
	enum page_type type;
	/* The whole reservation, guard page included, for munmap(). */
	void *map_addr;
	size_t map_size;
};

size_t huge_page_size(void);
/*
 * Maps size bytes of type: anonymous when fd < 0, else fd from offset 0.
 * map_flags is MAP_PRIVATE or MAP_SHARED. Returns 0 or -errno:
 * -EOPNOTSUPP for PAGE_MTHP without multi-size THP or for a file.
 */
int memory_map(struct bench_memory *m, enum page_type type, size_t size,
	       int map_flags, int fd);
/* Writes one byte per base page, as upstream does unless -z. */
void memory_fault_in(const struct bench_memory *m);
/*
 * The smallest multi-size THP size below the PMD's, in bytes; 0 if the
 * kernel has none.
 */
size_t mthp_size(void);
/*
 * Bytes mapped by huge pages (THP or hugetlb), from /proc/self/smaps; for
 * PAGE_MTHP, bytes in whole folios of its size, from /proc/kpageflags
 * (root only).
 */
long memory_huge_bytes(const struct bench_memory *m);
void memory_unmap(struct bench_memory *m);

struct bench_sample {
	__u64 pin_ns;
	__u64 unpin_ns;
	__u64 nr_pages;
	__u64 nr_calls;
};

/* Opens the module's file (gup_test_path()); on failure prints why and returns -errno. */
int bench_open(void);
/* One GUP_BENCH round over the memory. Returns 0 or -errno. */
int bench_once(int fd, const struct bench_memory *m,
	       const struct pin_method *method, bool write,
	       unsigned int nr_pages_per_call, struct bench_sample *s);
double sample_pin_ns_per_page(const struct bench_sample *s);
double sample_unpin_ns_per_page(const struct bench_sample *s);

/* bench_delay_ns of the module, or -1 where it cannot be read. */
long bench_delay_get(void);
int bench_delay_set(long ns);

#endif /* GUP_BENCHMARK_BENCH_H */
