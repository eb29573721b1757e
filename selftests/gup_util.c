// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the suite's selftests; see gup_util.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest.h"
#include "gup_util.h"

#define PROC_VMSTAT	"/proc/vmstat"
#define PROC_MEMINFO	"/proc/meminfo"
#define PROC_KPAGEFLAGS	"/proc/kpageflags"

size_t page_size = 4096;
/* A page for lru_drain(), mapped before a test makes holes to fill. */
static char *drain_page;

static void __attribute__((constructor)) gup_util_init(void)
{
	page_size = sysconf(_SC_PAGESIZE);
	drain_page = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (drain_page == MAP_FAILED)
		drain_page = NULL;
	else
		drain_page[0] = 1;
	/* Read now, before any thread: they are cached, and open files. */
	pmd_size();
	hugetlb_size();
}

int gup_open(void)
{
	char path[PATH_MAX];
	int fd;

	fd = open(gup_test_path(path, sizeof(path)), O_RDWR);
	return fd < 0 ? -errno : fd;
}

bool in_suite_guest(void)
{
	const char *vm = getenv("GUP_VM");

	return vm && !strcmp(vm, "1");
}

/* A missing piece of set-up: a skip on a host, a failure in our guest. */
static int setup_missing(void)
{
	return in_suite_guest() ? -1 : KSFT_SKIP;
}

const char *gup_open_skip(int ret)
{
	if (ret == -ENOENT && !in_suite_guest())
		return "no gup_test file in /sys/kernel/debug: module not loaded";
	if (ret == -EACCES || ret == -EPERM)
		return "opening gup_test needs root";
	return NULL;
}

static int gup_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

int gup_pin(int fd, void *addr, size_t size, unsigned int api,
	    unsigned int flags, __u32 *id, __u64 *nr_pages)
{
	struct gup_pin_session s = {
		.addr = (uintptr_t)addr,
		.size = size,
		.api = api,
		.flags = flags,
	};
	int ret = gup_ioctl(fd, GUP_PIN_START, &s);

	if (!ret) {
		*id = s.id;
		if (nr_pages)
			*nr_pages = s.nr_pages;
	}
	return ret;
}

int gup_unpin(int fd, __u32 id, unsigned int how)
{
	struct gup_unpin_session u = { .id = id, .how = how };

	return gup_ioctl(fd, GUP_PIN_STOP, &u);
}

/*
 * Pages waiting in a per-cpu LRU batch hold a reference that goes away when
 * the batch is drained, at a moment of the kernel's choosing. move_pages()
 * drains every CPU's batches before it starts: asking it to move a page of
 * ours to the node it is on already does nothing else.
 */
void lru_drain(void)
{
	void *pages[1] = { drain_page };
	int node, status;

	if (!drain_page)
		return;
	if (syscall(SYS_move_pages, 0, 1, pages, NULL, &status, 0) ||
	    status < 0)
		return;
	node = status;
	syscall(SYS_move_pages, 0, 1, pages, &node, &status, 0);
}

int gup_state(int fd, __u32 id, __u64 first, struct gup_page_state *ps,
	      __u64 count)
{
	struct gup_page_query q = {
		.id = id,
		.start = first,
		.count = count,
		.states = (uintptr_t)ps,
	};
	int ret;

	lru_drain();
	ret = gup_ioctl(fd, GUP_PIN_QUERY, &q);
	return ret ? ret : (q.count == count ? 0 : -ERANGE);
}

int gup_state_addr(int fd, const void *addr, struct gup_page_state *ps,
		   __u64 count)
{
	return gup_state(fd, 0, (uintptr_t)addr, ps, count);
}

int gup_dma(int fd, __u32 id, unsigned int dir, __u64 offset, void *buf,
	    __u64 len)
{
	struct gup_dma d = {
		.id = id,
		.dir = dir,
		.offset = offset,
		.len = len,
		.buf = (uintptr_t)buf,
	};

	return gup_ioctl(fd, GUP_DMA, &d);
}

bool api_pins(unsigned int api)
{
	return api == GUP_API_PUP || api == GUP_API_PUP_FAST;
}

unsigned int plain_unpin(unsigned int api)
{
	return api_pins(api) ? GUP_UNPIN_PLAIN : GUP_UNPIN_PUT;
}

const char *api_name(unsigned int api)
{
	static const char * const names[GUP_API_NR] = {
		[GUP_API_GUP] = "get_user_pages",
		[GUP_API_GUP_FAST] = "get_user_pages_fast",
		[GUP_API_PUP] = "pin_user_pages",
		[GUP_API_PUP_FAST] = "pin_user_pages_fast",
	};

	return api < GUP_API_NR ? names[api] : "?";
}

/* "NAME<sep>value" in a /proc file of such lines; -1 if absent. */
static long long proc_field(const char *path, const char *name, char sep)
{
	size_t len = strlen(name);
	long long val = -1;
	char line[256];
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == sep) {
			val = strtoll(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

long long vmstat(const char *name)
{
	int fd;

	/* The counters are per-cpu batched: fold them first. */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			fd = -1;
		close(fd);
	}
	return proc_field(PROC_VMSTAT, name, ' ');
}

long long pins_settled(long long acq0, long long rel0, long long *released)
{
	long long acq = 0, rel = 0;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		acq = vmstat("nr_foll_pin_acquired") - acq0;
		rel = vmstat("nr_foll_pin_released") - rel0;
		if (acq == rel)
			break;
		usleep(50000);
	}
	if (released)
		*released = rel;
	return acq == rel ? acq : -1;
}

long long gup_param(const char *param)
{
	char path[PATH_MAX];
	long long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/gup_test/parameters/%s",
		 param);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

int gup_set_param(const char *param, long long val)
{
	char path[PATH_MAX];
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/gup_test/parameters/%s",
		 param);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%lld\n", val) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

long long meminfo(const char *name)
{
	return proc_field(PROC_MEMINFO, name, ':');
}

/* Open files of gup_test; -1 if /sys/module does not say. */
static long long gup_module_refcnt(void)
{
	long long val = -1;
	FILE *f;

	f = fopen("/sys/module/gup_test/refcnt", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

void pin_ledger_read(struct pin_ledger *l)
{
	l->acquired = vmstat("nr_foll_pin_acquired");
	l->released = vmstat("nr_foll_pin_released");
	l->hugetlb_free = meminfo("HugePages_Free");
}

int pin_ledger_check(const struct pin_ledger *before, char *why,
		     size_t why_len)
{
	struct pin_ledger now;
	long long refcnt;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		refcnt = gup_module_refcnt();
		pin_ledger_read(&now);
		if (refcnt <= 0 &&
		    now.acquired - before->acquired ==
		    now.released - before->released &&
		    now.hugetlb_free == before->hugetlb_free)
			return 0;
		usleep(100000);
	}
	snprintf(why, why_len,
		 "gup_test open %lld times; pins acquired %lld, released %lld; hugetlb free %lld, was %lld",
		 refcnt, now.acquired - before->acquired,
		 now.released - before->released, now.hugetlb_free,
		 before->hugetlb_free);
	return -1;
}

#define THP_DIR	"/sys/kernel/mm/transparent_hugepage"

size_t pmd_size(void)
{
	static size_t size;
	unsigned long long val = 0;
	FILE *f;

	if (size)
		return size;
	f = fopen(THP_DIR "/hpage_pmd_size", "r");
	if (f) {
		if (fscanf(f, "%llu", &val) != 1)
			val = 0;
		fclose(f);
	}
	/* Without THP: a page table's worth of pages. */
	size = val ? val : page_size / sizeof(void *) * page_size;
	return size;
}

size_t hugetlb_size(void)
{
	static long long kb = -2;

	if (kb == -2)
		kb = meminfo("Hugepagesize");
	return kb > 0 ? (size_t)kb << 10 : 0;
}

size_t huge_size(void)
{
	return hugetlb_size() > pmd_size() ? hugetlb_size() : pmd_size();
}

int hugetlb_sizes(size_t *sizes, int max)
{
	DIR *dir = opendir("/sys/kernel/mm/hugepages");
	struct dirent *d;
	size_t kb;
	int n = 0;
	char c;

	if (!dir)
		return 0;
	while ((d = readdir(dir)) && n < max)
		if (sscanf(d->d_name, "hugepages-%zukB%c", &kb, &c) == 1)
			sizes[n++] = kb << 10;
	closedir(dir);
	return n;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int mthp_sizes(size_t *sizes, int max)
{
	char path[PATH_MAX];
	struct dirent *d;
	size_t kb;
	int n = 0, dirs = 0;
	DIR *dir = opendir(THP_DIR);
	char c;

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (sscanf(d->d_name, "hugepages-%zukB%c", &kb, &c) != 1)
			continue;
		/* Anonymous memory's sizes: the others have no "enabled". */
		snprintf(path, sizeof(path), "%s/%s/enabled", THP_DIR,
			 d->d_name);
		if (access(path, F_OK))
			continue;
		dirs++;
		if (kb * 1024 < pmd_size() && n < max)
			sizes[n++] = kb * 1024;
	}
	closedir(dir);
	qsort(sizes, n, sizeof(*sizes), cmp_size);
	return dirs ? n : -1;
}

/* The word in brackets of a sysfs choice: "always [madvise] never". */
static int read_choice(const char *path, char *buf, size_t len)
{
	char line[128], *lb, *rb;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	lb = strchr(line, '[');
	rb = lb ? strchr(lb, ']') : NULL;
	if (!rb || (size_t)(rb - lb) > len)
		return -EINVAL;
	snprintf(buf, rb - lb, "%s", lb + 1);
	return 0;
}

int write_value(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), err;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	err = n < 0 ? -errno : n == (ssize_t)strlen(val) ? 0 : -EIO;
	close(fd);
	return err;
}

static char *align_up(char *p, size_t align)
{
	return (char *)(((uintptr_t)p + align - 1) & ~(align - 1));
}

/* The folio order of the page at addr, and whether hugetlb; -1 if unknown. */
static int order_at(const void *addr, bool *hugetlb)
{
	struct gup_page_state ps;
	int fd = gup_open(), ret = -1;

	if (fd < 0)
		return -1;
	if (!gup_state_addr(fd, addr, &ps, 1)) {
		ret = ps.order;
		if (hugetlb)
			*hugetlb = ps.flags & GUP_PS_HUGETLB;
	}
	close(fd);
	return ret;
}

/* Whether the page at addr is in a PMD-sized THP (not hugetlb). */
static bool pmd_thp_at(const void *addr)
{
	bool hugetlb = false;

	return order_at(addr, &hugetlb) ==
	       __builtin_ctzl(pmd_size() / page_size) && !hugetlb;
}

long long smaps_kb(const void *addr, const char *field)
{
	unsigned long start, end, want = (uintptr_t)addr;
	size_t flen = strlen(field);
	long long val = -1;
	bool in = false;
	char line[512];
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			if (in)
				break;
			in = start <= want && want < end;
			continue;
		}
		if (in && !strncmp(line, field, flen) && line[flen] == ':') {
			val = strtoll(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/*
 * Maps size bytes of fd (or anonymous memory: fd -1) at an address aligned
 * to align, inside a reservation that mem_teardown() unmaps. advice
 * (MADV_HUGEPAGE, MADV_NOHUGEPAGE or 0) is given while the mapping is still
 * PROT_NONE: no fault, a GUP's included, can map a page before it holds.
 */
static int map_aligned(struct mem *m, size_t size, size_t align, int flags,
		       int fd, int advice, char *why, size_t why_len)
{
	char *p = m->at;

	if (p && (uintptr_t)p & (align - 1)) {
		snprintf(why, why_len, "%p is not aligned to %zu kB", p,
			 align >> 10);
		return -1;
	}
	if (!p) {
		m->map_size = size + align;
		m->map = mmap(NULL, m->map_size, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m->map == MAP_FAILED) {
			m->map = NULL;
			snprintf(why, why_len, "mmap: %s", strerror(errno));
			return -1;
		}
		p = align_up(m->map, align);
	}
	p = mmap(p, size, PROT_NONE,
		 flags | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (p == MAP_FAILED) {
		snprintf(why, why_len, "mmap: %s", strerror(errno));
		return -1;
	}
	m->addr = p;
	m->size = size;
	m->nr_pages = size / page_size;
	/* Without THP in the kernel there is nothing for NOHUGEPAGE to stop. */
	if (advice && madvise(p, size, advice) && advice == MADV_HUGEPAGE) {
		snprintf(why, why_len, "MADV_HUGEPAGE: %s", strerror(errno));
		return setup_missing();
	}
	if (mprotect(p, size, PROT_READ | PROT_WRITE)) {
		snprintf(why, why_len, "mprotect: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes each page's index + 1 to its first byte, or reads it. */
static void fault_in(struct mem *m, bool write)
{
	size_t i;

	for (i = 0; i < m->nr_pages; i++) {
		if (write)
			m->addr[i * page_size] = (char)(i + 1);
		else
			touch_read(m->addr + i * page_size);
	}
}

/* map_aligned() at a PMD boundary, with MADV_HUGEPAGE: room for THPs. */
static int map_thp_able(struct mem *m, size_t size, int flags, int fd,
			char *why, size_t why_len)
{
	return map_aligned(m, size, pmd_size(), flags, fd, MADV_HUGEPAGE, why,
			   why_len);
}

static int setup_anon(struct mem *m, size_t nr_pages, char *why,
		      size_t why_len)
{
	int ret = map_aligned(m, nr_pages * page_size, page_size,
			      MAP_PRIVATE, -1, MADV_NOHUGEPAGE, why, why_len);

	if (ret)
		return ret;
	fault_in(m, m->kind != MEM_ZERO_PAGE);
	return 0;
}

/* nr PMD-mapped THPs from m->addr on, each page written. */
static int anon_thps(struct mem *m, unsigned int nr, char *why,
		     size_t why_len)
{
	unsigned int i;
	int ret;

	ret = map_thp_able(m, nr * pmd_size(), MAP_PRIVATE, -1, why, why_len);
	if (ret)
		return ret;
	fault_in(m, true);
	for (i = 0; i < nr; i++) {
		if (!pmd_thp_at(m->addr + i * pmd_size())) {
			snprintf(why, why_len,
				 "no THP was allocated (THP disabled or memory fragmented)");
			return setup_missing();
		}
	}
	return 0;
}

static int setup_anon_thp(struct mem *m, size_t nr_pages, char *why,
			  size_t why_len)
{
	return anon_thps(m, 1, why, why_len);
}

/*
 * A THP mapped by PTEs: an mprotect() of one of its pages splits the PMD
 * mapping, and putting the protection back leaves it split. The folio
 * stays whole.
 */
static int setup_anon_thp_pte(struct mem *m, size_t nr_pages, char *why,
			      size_t why_len)
{
	int ret = anon_thps(m, 1, why, why_len);

	if (ret)
		return ret;
	if (mprotect(m->addr + page_size, page_size, PROT_READ) ||
	    mprotect(m->addr + page_size, page_size,
		     PROT_READ | PROT_WRITE)) {
		snprintf(why, why_len, "mprotect: %s", strerror(errno));
		return -1;
	}
	if (smaps_kb(m->addr, "AnonHugePages") != 0 ||
	    !pmd_thp_at(m->addr)) {
		snprintf(why, why_len,
			 "mprotect() left the THP PMD-mapped, or split it");
		return -1;
	}
	return 0;
}

/* Pages of the straddle kind taken from the end of the first THP. */
#define STRADDLE_FIRST	2

/*
 * The last STRADDLE_FIRST pages of one THP and the first pages of the next,
 * the rest of both unmapped: two partially mapped, PTE-mapped large folios,
 * whose boundary the cases' runs cross.
 */
static int setup_anon_thp_straddle(struct mem *m, size_t nr_pages,
				   char *why, size_t why_len)
{
	size_t pmd = pmd_size(), keep = nr_pages * page_size;
	char *second;
	int ret;

	if (nr_pages <= STRADDLE_FIRST || keep >= pmd) {
		snprintf(why, why_len, "%zu pages do not straddle two THPs",
			 nr_pages);
		return -1;
	}
	ret = anon_thps(m, 2, why, why_len);
	if (ret)
		return ret;
	second = m->addr + pmd;
	m->addr = second - STRADDLE_FIRST * page_size;
	m->size = keep;
	m->nr_pages = nr_pages;
	/* All of the first THP before m->addr, all of the second after. */
	if (munmap(second - pmd, pmd - STRADDLE_FIRST * page_size) ||
	    munmap(m->addr + keep, second + pmd - (m->addr + keep))) {
		snprintf(why, why_len, "munmap: %s", strerror(errno));
		return -1;
	}
	if (!pmd_thp_at(m->addr) || !pmd_thp_at(second)) {
		snprintf(why, why_len, "a partial munmap() split a THP");
		return -1;
	}
	return 0;
}

/*
 * A read fault in a THP-able, PMD-aligned range maps the huge zero folio
 * (transparent_hugepage/use_zero_page); /proc/kpageflags tells it.
 */
static int setup_huge_zero(struct mem *m, size_t nr_pages, char *why,
			   size_t why_len)
{
	__s64 kpf;
	int ret;

	ret = map_thp_able(m, pmd_size(), MAP_PRIVATE, -1, why, why_len);
	if (ret)
		return ret;
	fault_in(m, false);
	kpf = kpageflags(pagemap_pfn(m->addr));
	if (kpf < 0 || !(kpf & (1LL << KPF_ZERO_PAGE_BIT)) ||
	    !(kpf & (1LL << KPF_THP_BIT))) {
		snprintf(why, why_len,
			 "a read fault mapped no huge zero folio (transparent_hugepage/use_zero_page is 0?)");
		return setup_missing();
	}
	return 0;
}

static int setup_memfd(struct mem *m, size_t nr_pages, char *why,
		       size_t why_len)
{
	bool thp = m->kind == MEM_MEMFD_THP;
	bool private = m->kind == MEM_MEMFD_PRIVATE;
	size_t size = thp ? pmd_size() : nr_pages * page_size, i;
	int ret, flags;

	m->fd = memfd_create("gup_test", 0);
	if (m->fd < 0 || ftruncate(m->fd, size)) {
		snprintf(why, why_len, "memfd: %s", strerror(errno));
		return -1;
	}
	/*
	 * A private mapping of written shmem maps its pages until a write;
	 * not by PMD, as for file_private (setup_file()).
	 */
	for (i = 0; private && i < size / page_size; i++) {
		if (pwrite(m->fd, &(char){ i + 1 }, 1, i * page_size) != 1) {
			snprintf(why, why_len, "write memfd: %s",
				 strerror(errno));
			return -1;
		}
	}
	flags = private ? MAP_PRIVATE : MAP_SHARED;
	ret = thp ? map_thp_able(m, size, flags, m->fd, why, why_len) :
		    map_aligned(m, size, page_size, flags, m->fd,
				private ? MADV_NOHUGEPAGE : 0, why, why_len);
	if (ret)
		return ret;
	fault_in(m, !private);
	if (thp && !pmd_thp_at(m->addr)) {
		snprintf(why, why_len,
			 "no THP was allocated (shmem_enabled is not advise or always)");
		return setup_missing();
	}
	return 0;
}

/* The hugetlb size of the kind: the default one or the largest other. */
static size_t kind_hugetlb_size(enum mem_kind kind)
{
	size_t sizes[8], largest = 0;
	int i, n;

	if (kind == MEM_HUGETLB)
		return hugetlb_size();
	n = hugetlb_sizes(sizes, 8);
	for (i = 0; i < n; i++)
		if (sizes[i] > hugetlb_size() && sizes[i] > largest)
			largest = sizes[i];
	return largest;
}

/*
 * Whether the guest was booted with a gigantic page for the tests: our
 * guests reserve one only where asked to (tools/vm/run --gigantic), as it
 * needs more memory than the rest of the suite.
 */
static bool gigantic_reserved(void)
{
	const char *g = getenv("GUP_VM_GIGANTIC");

	return !in_suite_guest() || (g && !strcmp(g, "1"));
}

static int setup_hugetlb(struct mem *m, size_t nr_pages, char *why,
			 size_t why_len)
{
	size_t size = kind_hugetlb_size(m->kind);
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;

	if (!size) {
		snprintf(why, why_len, m->kind == MEM_HUGETLB ?
			 "no hugetlb pages in this kernel" :
			 "no hugetlb size above the default one (%zu kB)",
			 hugetlb_size() >> 10);
		return KSFT_SKIP;
	}
	flags |= __builtin_ctzl(size) << MAP_HUGE_SHIFT;
	if (m->at)
		flags |= MAP_FIXED;
	m->addr = mmap(m->at, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (m->addr == MAP_FAILED) {
		m->addr = NULL;
		snprintf(why, why_len,
			 "no free %zu kB hugetlb page (/sys/kernel/mm/hugepages)%s",
			 size >> 10, m->kind == MEM_HUGETLB ? "" :
			 ": a gigantic page is reserved at boot (hugepagesz=, hugepages=; tools/vm/run --gigantic)");
		if (m->kind == MEM_HUGETLB_GIGANTIC && !gigantic_reserved())
			return KSFT_SKIP;
		return setup_missing();
	}
	if (!m->at) {
		m->map = m->addr;
		m->map_size = size;
	}
	/* Of a gigantic page, a PMD's worth: a pin of all of it is E2BIG. */
	m->size = size < pmd_size() ? size : pmd_size();
	if (m->kind == MEM_HUGETLB)
		m->size = size;
	m->nr_pages = m->size / page_size;
	fault_in(m, true);
	return 0;
}

#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX		0x00200000
#endif

void kmsg_case(const char *name, const char *what)
{
	int fd = open("/dev/kmsg", O_WRONLY);
	char line[160];
	int len;

	if (fd < 0)
		return;
	/* One write, one record: /dev/kmsg refuses dprintf()'s pieces. */
	len = snprintf(line, sizeof(line), "gup_pin: case %s %s\n", name,
		       what);
	if (write(fd, line, len) != len)
		ksft_print_msg("cannot mark the kernel log: %s\n",
			       strerror(errno));
	close(fd);
}

int feature_missing(const char *var, const char *what, char *why,
		    size_t why_len)
{
	const char *lacks = getenv(var);

	if (!in_suite_guest() || !lacks || !strcmp(lacks, "unknown")) {
		snprintf(why, why_len, "%s%s", what,
			 in_suite_guest() ? ", and the kernel's config is unknown" : "");
		return KSFT_SKIP;
	}
	if (*lacks) {
		snprintf(why, why_len, "%s: the kernel lacks %s", what, lacks);
		return KSFT_SKIP;
	}
	snprintf(why, why_len, "%s, though the kernel has what it needs", what);
	return -1;
}

/*
 * A file on a file system mounted -o dax on pmem: ext4 (GUP_TEST_DAX_DIR),
 * nr_pages mapped by PTEs, or XFS (GUP_TEST_DAX_XFS_DIR), two PMDs' worth
 * in one allocation (2 MiB aligned: the extent size hint) mapped at a PMD
 * boundary.
 * Each page holds its index + 1; the file must be DAX (statx).
 */
static int setup_dax(struct mem *m, size_t nr_pages, char *why,
		     size_t why_len)
{
	bool xfs = m->kind == MEM_DAX_XFS;
	const char *env = xfs ? "GUP_TEST_DAX_XFS_DIR" : "GUP_TEST_DAX_DIR";
	const char *dir = getenv(env);
	size_t size = xfs ? 2 * pmd_size() : nr_pages * page_size, off;
	struct statx stx;
	char *buf;
	int ret;

	if (!dir) {
		char what[80];

		snprintf(what, sizeof(what),
			 "%s is not set: no file system mounted -o dax", env);
		return feature_missing("GUP_VM_PMEM_MISSING", what, why,
				       why_len);
	}
	snprintf(m->path, sizeof(m->path), "%s/gup_test.XXXXXX", dir);
	m->fd = mkstemp(m->path);
	if (m->fd < 0) {
		snprintf(why, why_len, "mkstemp in %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	if (statx(m->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx)) {
		snprintf(why, why_len, "statx %s: %s", m->path,
			 strerror(errno));
		return -1;
	}
	if (!(stx.stx_attributes & STATX_ATTR_DAX)) {
		snprintf(why, why_len, "%s is not DAX (statx)%s", m->path,
			 stx.stx_attributes_mask & STATX_ATTR_DAX ? "" :
			 ": the kernel does not say (before 5.8)");
		return -1;
	}
	errno = posix_fallocate(m->fd, 0, size);
	buf = errno ? NULL : malloc(size);
	if (!buf) {
		snprintf(why, why_len, "fallocate %s: %s", m->path,
			 strerror(errno));
		return -1;
	}
	for (off = 0; off < size; off++)
		buf[off] = (char)(off / page_size + 1);
	ret = pwrite(m->fd, buf, size, 0) != (ssize_t)size;
	free(buf);
	if (ret) {
		snprintf(why, why_len, "write %s: %s", m->path,
			 strerror(errno));
		return -1;
	}
	ret = xfs ? map_thp_able(m, size, MAP_SHARED, m->fd, why, why_len) :
		    map_aligned(m, size, page_size, MAP_SHARED, m->fd,
				MADV_NOHUGEPAGE, why, why_len);
	if (ret)
		return ret;
	fault_in(m, false);
	return 0;
}

/*
 * A file on a test file system: ext4 (GUP_TEST_FS_DIR) of nr_pages, or
 * XFS (GUP_TEST_XFS_DIR), whose page cache has large folios since 5.18:
 * two PMDs' worth, mapped PMD-aligned with MADV_HUGEPAGE, so that the read
 * fault reads ahead in PMD-sized folios. A private mapping is
 * MADV_NOHUGEPAGE: a R/O long-term pin of a PMD-mapped file folio there
 * never returns on 6.12 and 7.3, which pinned_pagecache's file_pmd cases
 * test alone (docs/kernel-bugs/file-pmd-unshare-livelock.md).
 */
static int setup_file(struct mem *m, size_t nr_pages, char *why,
		      size_t why_len)
{
	bool xfs = m->kind == MEM_XFS_SHARED;
	const char *env = xfs ? "GUP_TEST_XFS_DIR" : "GUP_TEST_FS_DIR";
	const char *dir = getenv(env);
	size_t size = xfs ? 2 * pmd_size() : nr_pages * page_size, off;
	int ret, flags;
	char *buf;

	if (!dir) {
		snprintf(why, why_len, "%s is not set: no %s test file system",
			 env, xfs ? "XFS" : "");
		return setup_missing();
	}
	snprintf(m->path, sizeof(m->path), "%s/gup_test.XXXXXX", dir);
	m->fd = mkstemp(m->path);
	if (m->fd < 0) {
		snprintf(why, why_len, "mkstemp in %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	buf = malloc(size);
	if (!buf)
		return -1;
	/* Distinct content per page, written back so the pages are clean. */
	for (off = 0; off < size; off++)
		buf[off] = (char)(off / page_size + 1);
	ret = pwrite(m->fd, buf, size, 0) != (ssize_t)size || fsync(m->fd);
	free(buf);
	if (ret) {
		snprintf(why, why_len, "write %s: %s", m->path,
			 strerror(errno));
		return -1;
	}
	/* Out of the page cache, for the fault to read back in. */
	if (xfs)
		posix_fadvise(m->fd, 0, size, POSIX_FADV_DONTNEED);
	flags = m->kind == MEM_FILE_PRIVATE ? MAP_PRIVATE : MAP_SHARED;
	ret = xfs ? map_thp_able(m, size, flags, m->fd, why, why_len) :
		    map_aligned(m, size, page_size, flags, m->fd,
				flags == MAP_PRIVATE ? MADV_NOHUGEPAGE : 0,
				why, why_len);
	if (ret)
		return ret;
	fault_in(m, false);
	if (xfs && order_at(m->addr, NULL) <= 0) {
		snprintf(why, why_len,
			 "XFS read the file into small folios");
		return -1;
	}
	return 0;
}

/*
 * A file on a tmpfs of our own, mounted huge=always: shmem in PMD-sized
 * folios without madvise, over two PMDs. Or mounted huge=within_size, a
 * PMD and a half long: a PMD-sized folio where i_size covers one, and
 * below the PMD's size past it, where huge=always would allocate a PMD
 * that sticks out beyond the end of the file.
 */
static int setup_tmpfs_huge(struct mem *m, size_t nr_pages, char *why,
			    size_t why_len)
{
	bool within = m->kind == MEM_TMPFS_WITHIN_SIZE;
	size_t size = within ? pmd_size() + pmd_size() / 2 : 2 * pmd_size();
	char opts[64];
	int ret;

	snprintf(m->mnt, sizeof(m->mnt), "/tmp/gup_tmpfs.XXXXXX");
	if (!mkdtemp(m->mnt)) {
		snprintf(why, why_len, "mkdtemp: %s", strerror(errno));
		m->mnt[0] = '\0';
		return -1;
	}
	snprintf(opts, sizeof(opts), "huge=%s,size=%zuk",
		 within ? "within_size" : "always", 2 * size >> 10);
	if (mount("gup_tmpfs", m->mnt, "tmpfs", 0, opts)) {
		snprintf(why, why_len, "mount tmpfs -o %s: %s", opts,
			 strerror(errno));
		rmdir(m->mnt);
		m->mnt[0] = '\0';
		return errno == EPERM ? KSFT_SKIP : -1;
	}
	snprintf(m->path, sizeof(m->path), "%s/gup_test", m->mnt);
	m->fd = open(m->path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (m->fd < 0 || ftruncate(m->fd, size)) {
		snprintf(why, why_len, "%s: %s", m->path, strerror(errno));
		return -1;
	}
	ret = map_aligned(m, size, pmd_size(), MAP_SHARED, m->fd, 0, why,
			  why_len);
	if (ret)
		return ret;
	fault_in(m, true);
	if (!pmd_thp_at(m->addr) || pmd_thp_at(m->addr + pmd_size()) == within) {
		snprintf(why, why_len, "tmpfs %s gave %s PMD-sized folios",
			 opts, within ? "other than one" : "no");
		return setup_missing();
	}
	return 0;
}

/*
 * Anonymous memory in folios of the i-th multi-size THP size: that size
 * set to "always" for the while (put back by mem_teardown()), and a
 * mapping of whole folios, aligned, that no larger folio fits in.
 */
static int mem_mthp(struct mem *m, unsigned int i, size_t nr_pages,
		    const char *knob, int flags, char *why, size_t why_len)
{
	size_t sizes[16], size, off;
	int n = mthp_sizes(sizes, 16);
	struct gup_page_state ps;
	int fd, ret;

	if (n < 0) {
		snprintf(why, why_len,
			 "no multi-size THP: the kernel has no %s/hugepages-<size>kB",
			 THP_DIR);
		return KSFT_SKIP;
	}
	if (i >= (unsigned int)n) {
		snprintf(why, why_len,
			 "the kernel offers %d multi-size THP sizes below the PMD's",
			 n);
		return KSFT_SKIP;
	}
	size = sizes[i];
	snprintf(m->knob, sizeof(m->knob), "%s/hugepages-%zukB/%s",
		 THP_DIR, size / 1024, knob);
	ret = read_choice(m->knob, m->knob_old, sizeof(m->knob_old));
	if (ret == -ENOENT) {
		snprintf(why, why_len, "the kernel has no %s", m->knob);
		m->knob[0] = '\0';
		return KSFT_SKIP;
	}
	/*
	 * Put back only by the set-up that changed it: of set-ups that
	 * overlap, the one that found it as it was.
	 */
	if (!ret && !strcmp(m->knob_old, "always"))
		m->knob[0] = '\0';
	else if (!ret)
		ret = write_value(m->knob, "always");
	if (ret) {
		snprintf(why, why_len, "cannot set %s: %s", m->knob,
			 strerror(-ret));
		m->knob[0] = '\0';
		return setup_missing();
	}
	m->order = __builtin_ctzl(size / page_size);
	m->size = (nr_pages * page_size + size - 1) / size * size;
	/* Less than a PMD, where a PMD-sized THP would fit. */
	if (m->size >= pmd_size())
		m->size = pmd_size() - size;
	/* Whole aligned folios, and nothing around them: no larger fits. */
	ret = map_aligned(m, m->size, size, flags, -1, 0, why, why_len);
	if (ret)
		goto out;
	if (m->map) {
		munmap(m->map, m->addr - m->map);
		munmap(m->addr + m->size, m->map + m->map_size -
		       (m->addr + m->size));
		m->map = m->addr;
		m->map_size = m->size;
	}
	fault_in(m, true);

	fd = gup_open();
	if (fd < 0) {
		snprintf(why, why_len, "open gup_test: %s", strerror(-fd));
		ret = -1;
		goto out;
	}
	for (off = 0; off < m->size; off += page_size) {
		if (gup_state_addr(fd, m->addr + off, &ps, 1) ||
		    ps.order != m->order)
			break;
	}
	close(fd);
	if (off < m->size) {
		snprintf(why, why_len,
			 "page %zu is not in a %zu kB folio (order %u): %s",
			 off / page_size, size / 1024, ps.order,
			 ps.order > m->order ? "a larger size is enabled too" :
			 "memory fragmented");
		ret = setup_missing();
	}
out:
	/* The size's setting goes back at once if the set-up failed. */
	if (ret)
		mem_teardown(m);
	return ret;
}

static int setup_mthp(struct mem *m, size_t nr_pages, char *why,
		      size_t why_len)
{
	return mem_mthp(m, m->kind - MEM_ANON_MTHP, nr_pages, "enabled",
			MAP_PRIVATE, why, why_len);
}

/*
 * Shared anonymous memory: shmem, in 4 KiB pages or, since 6.11, in
 * folios of the smallest multi-size THP size (its shmem_enabled, which
 * rules anonymous shmem only; tmpfs files follow their mount's huge=).
 */
static int setup_shared_anon(struct mem *m, size_t nr_pages, char *why,
			     size_t why_len)
{
	int ret;

	if (m->kind == MEM_SHARED_ANON_MTHP)
		return mem_mthp(m, 0, nr_pages, "shmem_enabled", MAP_SHARED,
				why, why_len);
	ret = map_aligned(m, nr_pages * page_size, page_size, MAP_SHARED, -1,
			  0, why, why_len);
	if (!ret)
		fault_in(m, true);
	return ret;
}

/*
 * The memory kinds: how each is made and what the cases may expect of it.
 * Adding a kind is an enum value in gup_util.h, a row here and, where no
 * set-up above fits, its set-up function.
 */
#define ANON_PRIVATE	(MEM_P_PRIVATE | MEM_P_ANON)

static const struct mem_type mem_types[MEM_KINDS] = {
	[MEM_ANON] = { "anon", setup_anon, ANON_PRIVATE },
	[MEM_ANON_THP] = { "anon_thp", setup_anon_thp,
			   ANON_PRIVATE | MEM_P_LARGE },
	[MEM_ANON_THP_PTE] = { "anon_thp_pte", setup_anon_thp_pte,
			       ANON_PRIVATE | MEM_P_LARGE },
	[MEM_ANON_THP_STRADDLE] = { "anon_thp_straddle",
				    setup_anon_thp_straddle,
				    ANON_PRIVATE | MEM_P_LARGE | MEM_P_WIDE },
	[MEM_ZERO_PAGE] = { "zero_page", setup_anon,
			    ANON_PRIVATE | MEM_P_PIN_RO },
	[MEM_HUGE_ZERO] = { "huge_zero", setup_huge_zero,
			    ANON_PRIVATE | MEM_P_PIN_RO | MEM_P_LARGE },
	[MEM_MEMFD] = { "memfd", setup_memfd, MEM_P_SHMEM },
	[MEM_SHARED_ANON] = { "shared_anon", setup_shared_anon,
			      MEM_P_ANON | MEM_P_SHMEM },
	[MEM_SHARED_ANON_MTHP] = { "shared_anon_mthp", setup_shared_anon,
				   MEM_P_ANON | MEM_P_SHMEM | MEM_P_LARGE },
	[MEM_MEMFD_THP] = { "memfd_thp", setup_memfd,
			    MEM_P_SHMEM | MEM_P_LARGE },
	[MEM_MEMFD_PRIVATE] = { "memfd_private", setup_memfd,
				MEM_P_PRIVATE | MEM_P_SHMEM | MEM_P_PIN_RO },
	[MEM_TMPFS_HUGE] = { "tmpfs_huge", setup_tmpfs_huge,
			     MEM_P_SHMEM | MEM_P_LARGE | MEM_P_WIDE },
	[MEM_TMPFS_WITHIN_SIZE] = { "tmpfs_within_size", setup_tmpfs_huge,
				    MEM_P_SHMEM | MEM_P_LARGE | MEM_P_WIDE },
	[MEM_HUGETLB] = { "hugetlb", setup_hugetlb,
			  ANON_PRIVATE | MEM_P_LARGE | MEM_P_HUGETLB },
	[MEM_HUGETLB_GIGANTIC] = { "hugetlb_gigantic", setup_hugetlb,
				   ANON_PRIVATE | MEM_P_LARGE |
				   MEM_P_HUGETLB | MEM_P_WIDE },
	[MEM_FILE_SHARED] = { "file_shared", setup_file, MEM_P_WRITEBACK },
	[MEM_FILE_PRIVATE] = { "file_private", setup_file,
			       MEM_P_PRIVATE | MEM_P_WRITEBACK |
			       MEM_P_PIN_RO },
	[MEM_XFS_SHARED] = { "xfs_shared", setup_file,
			     MEM_P_WRITEBACK | MEM_P_LARGE | MEM_P_WIDE },
	[MEM_DAX] = { "dax", setup_dax, MEM_P_DAX },
	[MEM_DAX_XFS] = { "dax_xfs", setup_dax, MEM_P_DAX | MEM_P_WIDE },
	[MEM_ANON_MTHP + 0] = { "anon_mthp0", setup_mthp,
				 ANON_PRIVATE | MEM_P_LARGE },
	[MEM_ANON_MTHP + 1] = { "anon_mthp1", setup_mthp,
				 ANON_PRIVATE | MEM_P_LARGE },
	[MEM_ANON_MTHP + 2] = { "anon_mthp2", setup_mthp,
				 ANON_PRIVATE | MEM_P_LARGE },
	[MEM_ANON_MTHP + 3] = { "anon_mthp3", setup_mthp,
				 ANON_PRIVATE | MEM_P_LARGE },
	[MEM_ANON_MTHP + 4] = { "anon_mthp4", setup_mthp,
				 ANON_PRIVATE | MEM_P_LARGE },
	[MEM_ANON_MTHP + 5] = { "anon_mthp5", setup_mthp,
				 ANON_PRIVATE | MEM_P_LARGE },
	[MEM_ANON_MTHP + 6] = { "anon_mthp6", setup_mthp,
				 ANON_PRIVATE | MEM_P_LARGE },
};

const struct mem_type *mem_type(enum mem_kind kind)
{
	return &mem_types[kind];
}

bool mem_private(enum mem_kind kind)
{
	return mem_types[kind].props & MEM_P_PRIVATE;
}

unsigned int pin_flags_allowed(enum mem_kind kind, unsigned int flags)
{
	/* fsdax pages stay the file's: no FOLL_LONGTERM (dax_pin.c). */
	if (mem_types[kind].props & MEM_P_DAX)
		return flags & ~GUP_PIN_LONGTERM;
	if ((flags & (GUP_PIN_LONGTERM | GUP_PIN_WRITE)) ==
	    (GUP_PIN_LONGTERM | GUP_PIN_WRITE) &&
	    mem_has_writeback(kind) && !mem_private(kind) &&
	    !kernel_expect()->longterm_write_file_ok)
		return flags & ~GUP_PIN_WRITE;
	return flags;
}

bool mem_has_writeback(enum mem_kind kind)
{
	return mem_types[kind].props & MEM_P_WRITEBACK;
}

bool mem_pin_read_only(enum mem_kind kind)
{
	return mem_types[kind].props & MEM_P_PIN_RO;
}

int mem_setup(struct mem *m, enum mem_kind kind, size_t nr_pages, char *why,
	      size_t why_len)
{
	return mem_setup_at(m, kind, nr_pages, NULL, why, why_len);
}

int mem_setup_at(struct mem *m, enum mem_kind kind, size_t nr_pages,
		 void *at, char *why, size_t why_len)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->fd = -1;
	m->at = at;
	if (at && (mem_types[kind].props & MEM_P_WIDE)) {
		snprintf(why, why_len, "%s does not fit a huge page's room",
			 mem_types[kind].name);
		return -1;
	}
	return mem_types[kind].setup(m, nr_pages, why, why_len);
}

void mem_teardown(struct mem *m)
{
	if (m->map)
		munmap(m->map, m->map_size);
	if (m->fd >= 0)
		close(m->fd);
	if (m->path[0])
		unlink(m->path);
	if (m->mnt[0]) {
		umount(m->mnt);
		rmdir(m->mnt);
	}
	if (m->knob[0])
		write_value(m->knob, m->knob_old);
	m->knob[0] = '\0';
	m->mnt[0] = '\0';
	m->map = NULL;
	m->fd = -1;
	m->path[0] = 0;
}

int pagemap_pfns(const void *addr, size_t n, __u64 *pfn)
{
	size_t len = n * sizeof(*pfn), i;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t got;

	if (fd < 0)
		return -errno;
	got = pread(fd, pfn, len, (uintptr_t)addr / page_size * sizeof(*pfn));
	close(fd);
	if (got != (ssize_t)len)
		return got < 0 ? -errno : -EIO;
	/* Bit 63: present; bits 0-54: pfn (zero without CAP_SYS_ADMIN). */
	for (i = 0; i < n; i++)
		pfn[i] = pfn[i] >> 63 ? pfn[i] & ((1ULL << 55) - 1) : 0;
	return 0;
}

__u64 pagemap_pfn(const void *addr)
{
	__u64 pfn;

	return pagemap_pfns(addr, 1, &pfn) ? 0 : pfn;
}

__s64 kpageflags(__u64 pfn)
{
	__u64 flags;
	int fd = open(PROC_KPAGEFLAGS, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, &flags, sizeof(flags), pfn * sizeof(flags));
	close(fd);
	return n == sizeof(flags) ? (__s64)flags : -1;
}

int read_disk(const char *path, __u64 offset, void *buf, size_t len)
{
	void *bounce;
	ssize_t n;
	int fd;

	if (posix_memalign(&bounce, page_size, len))
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		free(bounce);
		return -errno;
	}
	n = pread(fd, bounce, len, offset);
	if (n == (ssize_t)len)
		memcpy(buf, bounce, len);
	close(fd);
	free(bounce);
	return n < 0 ? -errno : (n == (ssize_t)len ? 0 : -EIO);
}

/*
 * The upstream version. Debian's release string names its ABI ("6.1.0-56"),
 * its version string the upstream stable release ("Debian 6.1.192-2").
 */
static void kernel_version(struct kernel_expect *k)
{
	struct utsname u;
	const char *deb;

	if (uname(&u))
		return;
	/* A release without a sublevel is .0; what does not parse stays 0. */
	if (sscanf(u.release, "%u.%u.%u", &k->major, &k->minor,
		   &k->sublevel) != 3)
		k->sublevel = 0;
	deb = strstr(u.version, "Debian ");
	if (deb)
		sscanf(deb, "Debian %u.%u.%u", &k->major, &k->minor,
		       &k->sublevel);
}

static bool version_at_least(const struct kernel_expect *k, unsigned int major,
			     unsigned int minor, unsigned int sublevel)
{
	if (k->major != major)
		return k->major > major;
	if (k->minor != minor)
		return k->minor > minor;
	return k->sublevel >= sublevel;
}

bool kernel_at_least(unsigned int major, unsigned int minor)
{
	struct kernel_expect k = { 0 };

	kernel_version(&k);
	return version_at_least(&k, major, minor, 0);
}

/*
 * Whether pins of the shared zero page are counted (in /proc/vmstat and
 * the page's refcount): pin one never-written anonymous page read-only and
 * watch nr_foll_pin_acquired. Kernels with "mm: Don't pin ZERO_PAGE in
 * pin_user_pages()" (v6.5; 6.1.130 for Debian's 6.1) count nothing.
 */
static bool probe_zero_page_pins_counted(void)
{
	struct gup_page_state ps;
	bool counted = true;
	long long acq0;
	__u32 id;
	char *p;
	int fd;

	fd = gup_open();
	if (fd < 0)
		return counted;
	p = mmap(NULL, page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		goto out;
	madvise(p, page_size, MADV_NOHUGEPAGE);
	if (gup_state_addr(fd, p, &ps, 1) || !(ps.flags & GUP_PS_ZERO_PAGE))
		goto unmap;
	acq0 = vmstat("nr_foll_pin_acquired");
	if (!gup_pin(fd, p, page_size, GUP_API_PUP_FAST, 0, &id, NULL)) {
		counted = vmstat("nr_foll_pin_acquired") - acq0 == 1;
		gup_unpin(fd, id, GUP_UNPIN_PLAIN);
	}
unmap:
	munmap(p, page_size);
out:
	close(fd);
	return counted;
}

/*
 * Whether FOLL_LONGTERM|FOLL_WRITE pins of a MAP_SHARED file on the test
 * filesystem are allowed: ask with one page. Since v6.5 ("mm/gup: disallow
 * FOLL_LONGTERM GUP-nonfast writing to file-backed mappings") only file
 * systems without writeback (shmem, hugetlbfs) allow them.
 */
static bool probe_longterm_write_file_ok(void)
{
	const char *dir = getenv("GUP_TEST_FS_DIR");
	char path[PATH_MAX];
	bool ok = false;
	int fd, file;
	__u32 id;
	char *p;

	if (!dir)
		return ok;
	fd = gup_open();
	if (fd < 0)
		return ok;
	snprintf(path, sizeof(path), "%s/gup_probe.XXXXXX", dir);
	file = mkstemp(path);
	if (file < 0)
		goto out;
	unlink(path);
	if (ftruncate(file, page_size))
		goto close_file;
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
	if (p == MAP_FAILED)
		goto close_file;
	if (!gup_pin(fd, p, page_size, GUP_API_PUP,
		     GUP_PIN_LONGTERM | GUP_PIN_WRITE, &id, NULL)) {
		ok = true;
		gup_unpin(fd, id, GUP_UNPIN_PLAIN);
	}
	munmap(p, page_size);
close_file:
	close(file);
out:
	close(fd);
	return ok;
}

/*
 * Whether direct I/O pins user pages (FOLL_PIN, iov_iter_extract_pages(),
 * v6.5 onwards for the block layer) or takes plain references (FOLL_GET):
 * one O_DIRECT read of a page of the test filesystem into an anonymous
 * page, and what nr_foll_pin_acquired says of it. The release comes at
 * bio completion, which may run a little later. 1 or 0; -1 if it cannot
 * be asked.
 */
static int probe_dio_pins(void)
{
	const char *dir = getenv("GUP_TEST_FS_DIR");
	long long acq0, rel0, acq = -1;
	char path[PATH_MAX];
	int fd;
	ssize_t n;
	char *p;

	if (!dir)
		return -1;
	snprintf(path, sizeof(path), "%s/gup_probe.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		goto out;
	p[0] = 1;
	n = pwrite(fd, p, page_size, 0);
	close(fd);
	fd = open(path, O_RDONLY | O_DIRECT);
	if (n != (ssize_t)page_size || fd < 0 || fsync(fd))
		goto unmap;
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	n = pread(fd, p, page_size, 0);
	if (n == (ssize_t)page_size)
		acq = pins_settled(acq0, rel0, NULL);
unmap:
	munmap(p, page_size);
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
	return acq == 0 || acq == 1 ? (int)acq : -1;
}

const struct kernel_expect *kernel_expect(void)
{
	static struct kernel_expect k;
	static bool done;

	if (done)
		return &k;
	kernel_version(&k);
	k.zero_page_pins_counted = probe_zero_page_pins_counted();
	k.longterm_write_file_ok = probe_longterm_write_file_ok();
	k.dio_pins = probe_dio_pins();
	/*
	 * "mm/gup: Retire follow_hugetlb_page()": v6.6. The version, since
	 * the only probe would be the WARN itself, which fails the run.
	 */
	k.longterm_movable_hugetlb_warns = !version_at_least(&k, 6, 6, 0);
	done = true;
	return &k;
}

int uring_register_result(enum mem_kind kind)
{
	bool own_check = kernel_expect()->longterm_write_file_ok;

	if (!mem_has_writeback(kind))
		return 0;
	if (!mem_private(kind))
		return own_check ? -EOPNOTSUPP : -EFAULT;
	return own_check ? -EOPNOTSUPP : 0;
}

bool page_counts_equal(const struct gup_page_state *want,
		       const struct gup_page_state *got)
{
	return want->pfn == got->pfn && want->refcount == got->refcount &&
	       want->pincount == got->pincount &&
	       !((want->flags ^ got->flags) & GUP_PS_MAYBE_DMA_PINNED);
}

const char *page_counts_str(const struct gup_page_state *ps, char *buf,
			    size_t len)
{
	snprintf(buf, len, "pfn %#llx refcount %d pincount %d dma-pinned %d",
		 (unsigned long long)ps->pfn, ps->refcount, ps->pincount,
		 !!(ps->flags & GUP_PS_MAYBE_DMA_PINNED));
	return buf;
}
