// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

const char *const page_type_names[PAGE_TYPE_NR] = {
	[PAGE_4K] = "4k",
	[PAGE_THP] = "thp",
	[PAGE_HUGETLB] = "hugetlb",
};

int page_type_by_name(const char *name)
{
	int t;

	for (t = 0; t < PAGE_TYPE_NR; t++)
		if (!strcmp(name, page_type_names[t]))
			return t;
	return -1;
}

const struct pin_method pin_methods[] = {
	{ "gup",		GUP_API_GUP,		0 },
	{ "gup_fast",		GUP_API_GUP_FAST,	0 },
	{ "pup",		GUP_API_PUP,		0 },
	{ "pup_fast",		GUP_API_PUP_FAST,	0 },
	{ "pup_longterm",	GUP_API_PUP,		GUP_PIN_LONGTERM },
	{ "pup_fast_longterm",	GUP_API_PUP_FAST,	GUP_PIN_LONGTERM },
};

const size_t nr_pin_methods = ARRAY_SIZE(pin_methods);

const struct pin_method *pin_method_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < nr_pin_methods; i++)
		if (!strcmp(name, pin_methods[i].name))
			return &pin_methods[i];
	return NULL;
}

size_t huge_page_size(void)
{
	size_t kb = 0;
	char line[128];
	FILE *f;

	/* On x86-64 and arm64 (4K) this is also the PMD size of THP. */
	f = fopen("/proc/meminfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Hugepagesize: %zu kB", &kb) == 1)
				break;
		fclose(f);
	}
	return kb ? kb << 10 : 2UL << 20;
}

int memory_map(struct bench_memory *m, enum page_type type, size_t size,
	       int map_flags, int fd)
{
	size_t align = huge_page_size(), page = getpagesize(), resv_size;
	char *resv, *addr, *guard_end;
	int flags = map_flags | MAP_FIXED, err;

	memset(m, 0, sizeof(*m));
	if (!size || size % (type == PAGE_HUGETLB ? align : page))
		return -EINVAL;

	/*
	 * Reserve room to start on a huge page boundary, so that THP can back
	 * all of the range and not only its interior, and to keep a PROT_NONE
	 * guard page after it, so that it never merges with a neighbour and
	 * its smaps entry describes it alone.
	 */
	resv_size = size + align + page;
	resv = mmap(NULL, resv_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return -errno;
	addr = (char *)(((uintptr_t)resv + align - 1) & ~(uintptr_t)(align - 1));

	if (type == PAGE_HUGETLB)
		flags |= MAP_HUGETLB | MAP_ANONYMOUS;
	else if (fd < 0)
		flags |= MAP_ANONYMOUS;
	if (mmap(addr, size, PROT_READ | PROT_WRITE, flags,
		 flags & MAP_ANONYMOUS ? -1 : fd, 0) == MAP_FAILED) {
		err = -errno;
		munmap(resv, resv_size);
		return err;
	}
	guard_end = addr + size + page;
	if (addr > resv)
		munmap(resv, addr - resv);
	munmap(guard_end, resv + resv_size - guard_end);

	m->addr = addr;
	m->size = size;
	m->type = type;
	m->map_addr = addr;
	m->map_size = size + page;

	if (type == PAGE_THP && madvise(addr, size, MADV_HUGEPAGE)) {
		err = -errno;
		memory_unmap(m);
		return err;
	}
	/* Fails only where there is no THP: then the pages are 4K anyway. */
	if (type == PAGE_4K)
		madvise(addr, size, MADV_NOHUGEPAGE);
	return 0;
}

void memory_fault_in(const struct bench_memory *m)
{
	size_t page = getpagesize(), off;

	for (off = 0; off < m->size; off += page)
		m->addr[off] = 0;
}

long memory_huge_bytes(const struct bench_memory *m)
{
	static const char *const huge_fields[] = {
		"AnonHugePages:", "ShmemPmdMapped:", "FilePmdMapped:",
		"Private_Hugetlb:", "Shared_Hugetlb:",
	};
	unsigned long start, end;
	long kb = -1, v;
	char line[256], name[64];
	size_t i;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			if (kb >= 0)
				break;
			if (start == (unsigned long)m->addr)
				kb = 0;
			continue;
		}
		if (kb < 0 || sscanf(line, "%63s %ld kB", name, &v) != 2)
			continue;
		for (i = 0; i < ARRAY_SIZE(huge_fields); i++)
			if (!strcmp(name, huge_fields[i]))
				kb += v;
	}
	fclose(f);
	return kb < 0 ? -1 : kb << 10;
}

void memory_unmap(struct bench_memory *m)
{
	if (m->map_addr)
		munmap(m->map_addr, m->map_size);
	memset(m, 0, sizeof(*m));
}

int bench_open(void)
{
	char path[PATH_MAX];
	int fd, err;

	fd = open(gup_test_path(path, sizeof(path)), O_RDWR);
	if (fd >= 0)
		return fd;
	err = errno;
	if (err == EACCES)
		fprintf(stderr, "%s: permission denied: run as root\n", path);
	else if (err == ENOENT)
		fprintf(stderr, "%s: missing: mount debugfs and load gup_test.ko\n",
			path);
	else
		fprintf(stderr, "%s: %s\n", path, strerror(err));
	return -err;
}

int bench_once(int fd, const struct bench_memory *m,
	       const struct pin_method *method, bool write,
	       unsigned int nr_pages_per_call, struct bench_sample *s)
{
	struct gup_bench b = {
		.addr = (uintptr_t)m->addr,
		.size = m->size,
		.api = method->api,
		.flags = method->flags | (write ? GUP_PIN_WRITE : 0),
		.nr_pages_per_call = nr_pages_per_call,
	};

	if (ioctl(fd, GUP_BENCH, &b))
		return -errno;
	s->pin_ns = b.pin_ns;
	s->unpin_ns = b.unpin_ns;
	s->nr_pages = b.nr_pages;
	s->nr_calls = b.nr_calls;
	return 0;
}

double sample_pin_ns_per_page(const struct bench_sample *s)
{
	return s->nr_pages ? (double)s->pin_ns / s->nr_pages : NAN;
}

double sample_unpin_ns_per_page(const struct bench_sample *s)
{
	return s->nr_pages ? (double)s->unpin_ns / s->nr_pages : NAN;
}

long bench_delay_get(void)
{
	long ns = -1;
	FILE *f = fopen(BENCH_DELAY_FILE, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

int bench_delay_set(long ns)
{
	FILE *f = fopen(BENCH_DELAY_FILE, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", ns) < 0)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}
