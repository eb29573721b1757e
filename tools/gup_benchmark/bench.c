// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
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
	[PAGE_MTHP] = "mthp",
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

#define THP_DIR		"/sys/kernel/mm/transparent_hugepage"
#define MTHP_MAX	16

/* The settings of the THP sizes, as they were before PAGE_MTHP's. */
static struct {
	int users;		/* memories of PAGE_MTHP mapped */
	int nr;
	char path[MTHP_MAX][128];
	char old[MTHP_MAX][16];
} mthp_saved;

static size_t pmd_size(void)
{
	unsigned long long v = 0;
	FILE *f = fopen(THP_DIR "/hpage_pmd_size", "r");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/*
 * The anonymous THP sizes, in kB, every one the kernel has: how many. A
 * size only shmem takes (order 1, since 6.12) has no "enabled".
 */
static int thp_sizes_kb(unsigned long *kb, int max)
{
	DIR *d = opendir(THP_DIR);
	char path[PATH_MAX];
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		if (sscanf(e->d_name, "hugepages-%lukB", &kb[n]) != 1)
			continue;
		snprintf(path, sizeof(path), THP_DIR "/%s/enabled", e->d_name);
		if (!access(path, F_OK))
			n++;
	}
	closedir(d);
	return n;
}

size_t mthp_size(void)
{
	unsigned long kb[MTHP_MAX], best = 0;
	int i, n = thp_sizes_kb(kb, MTHP_MAX);

	for (i = 0; i < n; i++)
		if ((kb[i] << 10) < pmd_size() && (!best || kb[i] < best))
			best = kb[i];
	return best << 10;
}

/* The bracketed choice of a THP setting ("[never] always" gives never). */
static int read_choice(const char *path, char *out, size_t len)
{
	char buf[128], *l, *r;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r || (size_t)(r - l) > len)
		return -EINVAL;
	*r = '\0';
	snprintf(out, len, "%s", l + 1);
	return 0;
}

static int write_setting(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void mthp_put_back(void)
{
	while (mthp_saved.nr) {
		mthp_saved.nr--;
		write_setting(mthp_saved.path[mthp_saved.nr],
			      mthp_saved.old[mthp_saved.nr]);
	}
}

/* The smallest size "always", every other "never", the first time. */
static int mthp_get(void)
{
	unsigned long kb[MTHP_MAX];
	int i, n, err = 0;
	size_t want = mthp_size();

	if (!want)
		return -EOPNOTSUPP;
	if (mthp_saved.users++)
		return 0;
	n = thp_sizes_kb(kb, MTHP_MAX);
	for (i = 0; i < n && !err; i++) {
		char *path = mthp_saved.path[mthp_saved.nr];

		snprintf(path, sizeof(mthp_saved.path[0]),
			 THP_DIR "/hugepages-%lukB/enabled", kb[i]);
		err = read_choice(path, mthp_saved.old[mthp_saved.nr],
				  sizeof(mthp_saved.old[0]));
		if (!err)
			mthp_saved.nr++;
		if (!err)
			err = write_setting(path, kb[i] << 10 == want ?
					    "always" : "never");
	}
	if (err) {
		mthp_put_back();
		mthp_saved.users = 0;
	}
	return err;
}

static void mthp_put(void)
{
	if (mthp_saved.users && !--mthp_saved.users)
		mthp_put_back();
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
	if (type == PAGE_MTHP) {
		if (fd >= 0)
			return -EOPNOTSUPP;
		err = mthp_get();
		if (err)
			return err;
	}

	/*
	 * Reserve room to start on a huge page boundary, so that THP can back
	 * all of the range and not only its interior, and to keep a PROT_NONE
	 * guard page after it, so that it never merges with a neighbour and
	 * its smaps entry describes it alone.
	 */
	resv_size = size + align + page;
	resv = mmap(NULL, resv_size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED) {
		err = -errno;
		if (type == PAGE_MTHP)
			mthp_put();
		return err;
	}
	addr = (char *)(((uintptr_t)resv + align - 1) & ~(uintptr_t)(align - 1));

	if (type == PAGE_HUGETLB)
		flags |= MAP_HUGETLB | MAP_ANONYMOUS;
	else if (fd < 0)
		flags |= MAP_ANONYMOUS;
	if (mmap(addr, size, PROT_READ | PROT_WRITE, flags,
		 flags & MAP_ANONYMOUS ? -1 : fd, 0) == MAP_FAILED) {
		err = -errno;
		munmap(resv, resv_size);
		if (type == PAGE_MTHP)
			mthp_put();
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

#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16

/*
 * Bytes of the memory in whole folios of the multi-size THP size: runs of
 * a compound head and its tails of that many pages. -1 if /proc/kpageflags
 * cannot be read.
 */
static long mthp_bytes(const struct bench_memory *m)
{
	size_t page = getpagesize(), want = mthp_size() / page;
	size_t i, n = m->size / page, run = 0;
	int pm = open("/proc/self/pagemap", O_RDONLY);
	int kpf = open("/proc/kpageflags", O_RDONLY);
	uint64_t ent, flags;
	long bytes = -1;

	if (pm < 0 || kpf < 0)
		goto out;
	bytes = 0;
	for (i = 0; i <= n; i++) {
		flags = 0;
		if (i < n) {
			off_t off = ((uintptr_t)m->addr / page + i) * sizeof(ent);

			if (pread(pm, &ent, sizeof(ent), off) != sizeof(ent))
				ent = 0;
			/* Bit 63: present; bits 0-54: the pfn (0 without root). */
			ent &= (1ULL << 55) - 1;
			if (!ent || pread(kpf, &flags, sizeof(flags),
					  ent * sizeof(flags)) != sizeof(flags)) {
				bytes = -1;
				break;
			}
		}
		if (flags & 1ULL << KPF_COMPOUND_TAIL) {
			run += !!run;
			continue;
		}
		if (run == want)
			bytes += run * page;
		run = flags & 1ULL << KPF_COMPOUND_HEAD ? 1 : 0;
	}
out:
	if (pm >= 0)
		close(pm);
	if (kpf >= 0)
		close(kpf);
	return bytes;
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

	if (m->type == PAGE_MTHP)
		return mthp_bytes(m);
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
	if (m->map_addr && m->type == PAGE_MTHP)
		mthp_put();
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
