/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the suite's selftests: the gup_test device, /proc/vmstat,
 * the memory types every case runs against, and what the running kernel is
 * expected to do.
 */
#ifndef GUP_UTIL_H
#define GUP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <linux/types.h>

#include "gup_test_abi.h"

#define GUP_BIAS	1024	/* GUP_PIN_COUNTING_BIAS */

extern size_t page_size;

/*
 * A load of *p that the compiler keeps, though its value goes unused:
 * faults the page in for reading, leaving the zero page or a clean file
 * page as it is.
 */
static inline char touch_read(const char *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/*
 * In the suite's own guest (tools/vm/init exports GUP_VM=1) the set-up is
 * the suite's: the device, THP, hugetlb pages and the test file system are
 * there by construction, so their absence is a failure there and a skip,
 * with its reason, on a host someone else set up.
 */
bool in_suite_guest(void);

/*
 * A diagnostic line from a harness test: flushed, since the test's process
 * ends with _exit() and would drop what stdio still holds.
 */
#define gup_report(fmt, ...) do {					\
	ksft_print_msg(fmt, ##__VA_ARGS__);				\
	fflush(stdout);							\
} while (0)

/*
 * Empties the per-cpu LRU batches, so that every page faulted in so far is
 * on an LRU list, where reclaim and isolation find it.
 */
void lru_drain(void);

/* The device; GUP_TEST_DEV overrides the path. Returns fd or -errno. */
int gup_open(void);
/*
 * Why gup_open()'s result means skip rather than fail; NULL if it does not
 * (and never for a missing device in the suite's guest).
 */
const char *gup_open_skip(int ret);

/*
 * Each returns 0 or -errno. gup_state*() drain the per-cpu LRU batches first,
 * so that the refcounts they read hold only stable references.
 */
int gup_pin(int fd, void *addr, size_t size, unsigned int api,
	    unsigned int flags, __u32 *id, __u64 *nr_pages);
int gup_unpin(int fd, __u32 id, unsigned int how);
int gup_state(int fd, __u32 id, __u64 first,
	      struct gup_page_state *ps, __u64 count);
int gup_state_addr(int fd, const void *addr, struct gup_page_state *ps,
		   __u64 count);

/*
 * What the pin-count tests compare of a page: pfn, refcount, pincount and
 * whether folio_maybe_dma_pinned() says so; and the same as text.
 */
bool page_counts_equal(const struct gup_page_state *want,
		       const struct gup_page_state *got);
const char *page_counts_str(const struct gup_page_state *ps, char *buf,
			    size_t len);
int gup_dma(int fd, __u32 id, unsigned int dir, __u64 offset,
	    void *buf, __u64 len);

/* The unpin way that matches an API's plain release. */
unsigned int plain_unpin(unsigned int api);
bool api_pins(unsigned int api);
const char *api_name(unsigned int api);

/* A /proc/vmstat counter after folding the per-cpu deltas; -1 if absent. */
long long vmstat(const char *name);

/*
 * The pins acquired since the counters read acq0 and rel0, once the
 * releases have caught up with them: a bio releases its pages at its
 * completion, a ring at its exit work, either after the syscall returned.
 * -1 if they do not within 5 s; *released (if given) says how far they got.
 */
long long pins_settled(long long acq0, long long rel0, long long *released);

/* A module parameter of gup_test; -1 if it cannot be read. */
long long gup_param(const char *param);
/* A field of /proc/meminfo, in its unit (kB, pages); -1 if absent. */
long long meminfo(const char *name);

/* Writes val to a sysctl or sysfs file: 0 or -errno. */
int write_value(const char *path, const char *val);

/* Sets a module parameter of gup_test: 0 or -errno. */
int gup_set_param(const char *param, long long val);

/*
 * What a program that pins must leave behind when it has closed its files:
 * no gup_test file open (the module's refcount, when /sys/module tells),
 * as many pins released as acquired (nr_foll_pin_*), every hugetlb page it
 * took back in the pool. Read one before, check against it after.
 */
struct pin_ledger {
	long long acquired;
	long long released;
	long long hugetlb_free;
};

void pin_ledger_read(struct pin_ledger *l);
/*
 * 0 if balanced; -1 with why filled in if not. Waits up to 10 s for files
 * that exiting children still hold.
 */
int pin_ledger_check(const struct pin_ledger *before, char *why,
		     size_t why_len);

/*
 * Marks a case's start or end in the kernel log ("gup_pin: case NAME
 * begins"/"ends"), where the verdict (selftests/klog.expected) looks for
 * the reports the case may cause.
 */
void kmsg_case(const char *name, const char *what);

/*
 * A piece of set-up that is missing (what says which), where our guest's
 * runner says in var (GUP_VM_*_MISSING) what the kernel's config lacks of
 * what it needs: KSFT_SKIP on a host, where the kernel lacks it or where
 * its config is unknown; -1 in our guest when the kernel has it all. Fills
 * why.
 */
int feature_missing(const char *var, const char *what, char *why,
		    size_t why_len);

/* The memory kinds; mem_type() says what each is. */
enum mem_kind {
	MEM_ANON,		/* anonymous, 4 KiB pages */
	MEM_ANON_THP,		/* anonymous, one PMD-mapped THP */
	MEM_MEMFD,		/* memfd (shmem), MAP_SHARED */
	MEM_HUGETLB,		/* anonymous hugetlb, one page of the default size */
	MEM_FILE_SHARED,	/* file on the test filesystem, MAP_SHARED */
	MEM_FILE_PRIVATE,	/* file on the test filesystem, MAP_PRIVATE */
	MEM_ZERO_PAGE,		/* never-written anonymous: the zero page */
	MEM_MEMFD_THP,		/* memfd (shmem), one PMD-mapped THP */
	MEM_ANON_THP_PTE,	/* anonymous, one THP mapped by PTEs */
	/*
	 * Anonymous: the last pages of one THP and the first of the next,
	 * both partially mapped, by PTEs.
	 */
	MEM_ANON_THP_STRADDLE,
	MEM_HUGE_ZERO,		/* never-written THP-able range: huge zero folio */
	MEM_MEMFD_PRIVATE,	/* memfd (shmem) with content, MAP_PRIVATE */
	MEM_TMPFS_HUGE,		/* file on tmpfs huge=always, two PMD folios */
	/* file on tmpfs huge=within_size, 1.5 PMDs: a PMD folio, then less */
	MEM_TMPFS_WITHIN_SIZE,
	/* anonymous hugetlb of the largest size above the default: the PUD */
	MEM_HUGETLB_GIGANTIC,
	MEM_XFS_SHARED,		/* file on XFS (large folios), MAP_SHARED */
	MEM_SHARED_ANON,	/* MAP_SHARED | MAP_ANONYMOUS: shmem, 4 KiB */
	/* the same in folios of the smallest multi-size THP size */
	MEM_SHARED_ANON_MTHP,
	/* file on ext4 -o dax on pmem (GUP_TEST_DAX_DIR), MAP_SHARED */
	MEM_DAX,
	/*
	 * file on XFS -o dax on pmem (GUP_TEST_DAX_XFS_DIR), two PMDs'
	 * worth, MAP_SHARED at a PMD boundary: PMD-mapped where the kernel
	 * maps DAX by PMD
	 */
	MEM_DAX_XFS,
	/*
	 * Anonymous, in folios of one multi-size THP size: MEM_ANON_MTHP + i
	 * is the i-th smallest size below the PMD's that the kernel offers
	 * (/sys/kernel/mm/transparent_hugepage/hugepages-<size>kB).
	 */
	MEM_ANON_MTHP,
	MEM_ANON_MTHP_END = MEM_ANON_MTHP + 7,
	MEM_KINDS = MEM_ANON_MTHP_END,
};

static inline bool mem_is_mthp(int kind)
{
	return kind >= MEM_ANON_MTHP && kind < MEM_ANON_MTHP_END;
}

struct mem {
	enum mem_kind kind;
	char *addr;
	size_t size;
	size_t nr_pages;
	int fd;
	char path[PATH_MAX];
	char *map;		/* what to munmap */
	size_t map_size;
	unsigned int order;	/* of the kind's folios, where it has one */
	char knob[PATH_MAX];	/* a THP setting changed for the kind */
	char knob_old[16];	/* and what it was */
	char mnt[64];		/* a file system mounted for the kind */
	char *at;		/* where mem_setup_at() was told to map */
};

/* What a memory kind is (struct mem_type's props). */
#define MEM_P_PRIVATE	0x01	/* private mapping: write pins give anon pages */
#define MEM_P_ANON	0x02	/* an anonymous mapping */
#define MEM_P_SHMEM	0x04	/* shmem: memfd or tmpfs */
#define MEM_P_WRITEBACK	0x08	/* a file with writeback to a disk */
#define MEM_P_PIN_RO	0x10	/* pinned read-only: a write would replace it */
#define MEM_P_LARGE	0x20	/* in large folios */
#define MEM_P_HUGETLB	0x40	/* hugetlb */
/* More than a huge page's room: two PMDs, a gigantic page */
#define MEM_P_WIDE	0x80
/* fsdax: the pages are the file's storage, with no page cache */
#define MEM_P_DAX	0x100

struct mem_type {
	const char *name;
	/* Makes m (kind set): as mem_setup(). */
	int (*setup)(struct mem *m, size_t nr_pages, char *why,
		     size_t why_len);
	unsigned int props;	/* MEM_P_* */
};

const struct mem_type *mem_type(enum mem_kind kind);

/*
 * Maps at least nr_pages of kind, faulted in (written where the kind allows,
 * read otherwise). Returns 0, or KSFT_SKIP with why filled in, or -1 with why;
 * in the suite's guest, what would be a skip is -1.
 */
int mem_setup(struct mem *m, enum mem_kind kind, size_t nr_pages,
	      char *why, size_t why_len);
/*
 * mem_setup() into [at, at + huge_size()), which the caller has reserved
 * (aligned to huge_size()) and keeps: mem_teardown() leaves the range
 * mapped. For the kinds without MEM_P_WIDE; nr_pages at most a huge page's.
 */
int mem_setup_at(struct mem *m, enum mem_kind kind, size_t nr_pages,
		 void *at, char *why, size_t why_len);
void mem_teardown(struct mem *m);
/* The PMD size: the size of a PMD-mapped THP. */
size_t pmd_size(void);
/* The default hugetlb page size; 0 without hugetlb. */
size_t hugetlb_size(void);
/* Room for either: the larger of the two. */
size_t huge_size(void);
/* The hugetlb page sizes the kernel has, in bytes, at most max: how many. */
int hugetlb_sizes(size_t *sizes, int max);
/*
 * The multi-size THP sizes below the PMD's, in bytes, smallest first, at
 * most max; -1 if the kernel has none (before 6.8).
 */
int mthp_sizes(size_t *sizes, int max);
/* Whether the mapping is private (pins for write give anonymous pages). */
bool mem_private(enum mem_kind kind);
/* Whether pins of this kind are read-only in the pin-count cases. */
bool mem_pin_read_only(enum mem_kind kind);

/* flags (GUP_PIN_*) less what the kernel refuses for this kind. */
unsigned int pin_flags_allowed(enum mem_kind kind, unsigned int flags);

/* Whether the kind is a file with writeback to a disk. */
bool mem_has_writeback(enum mem_kind kind);

/* The pfn mapped at addr, from /proc/self/pagemap; 0 if none. */
__u64 pagemap_pfn(const void *addr);
/* The pfns of the n pages from addr, 0 where none: 0 or -errno. */
int pagemap_pfns(const void *addr, size_t n, __u64 *pfn);
/* /proc/kpageflags of pfn; -1 if it cannot be read. */
__s64 kpageflags(__u64 pfn);
#define KPF_DIRTY_BIT		4
#define KPF_THP_BIT		22
#define KPF_ZERO_PAGE_BIT	24

/* A field of the smaps entry of the mapping at addr, in kB; -1 if none. */
long long smaps_kb(const void *addr, const char *field);

/*
 * Reads the file's blocks from the disk with O_DIRECT, bypassing the page
 * cache: offset and len are multiples of the page size. 0 or -errno.
 */
int read_disk(const char *path, __u64 offset, void *buf, size_t len);

/*
 * The set-up of every memory-type fixture, for a FIXTURE_SETUP() (it uses
 * the harness's ASSERT and setup_skip.h): opens the device into fd and maps
 * m; what it skips on, it has released, then runs statement (return), as
 * SETUP_SKIP() does. kernel_expect() probes first. Each argument is
 * evaluated once.
 */
#define SETUP_DEVICE_AND_MEM(statement, fd, m, kind, nr_pages) do {	\
	int *fd_ = &(fd);						\
	struct mem *m_ = (m);						\
	char why_[256] = "";						\
	int ret_ = KSFT_SKIP;						\
									\
	*fd_ = gup_open();						\
	if (gup_open_skip(*fd_)) {					\
		snprintf(why_, sizeof(why_), "%s", gup_open_skip(*fd_));	\
	} else {							\
		/* Probe now: the probes pin, which the cases count. */	\
		kernel_expect();					\
		ASSERT_LE(0, *fd_)					\
			TH_LOG("open gup_test: %s", strerror(-*fd_));	\
		ret_ = mem_setup(m_, kind, nr_pages, why_, sizeof(why_));	\
		if (ret_ == KSFT_SKIP) {				\
			mem_teardown(m_);				\
			close(*fd_);					\
			*fd_ = -1;					\
		}							\
	}								\
	if (ret_ == KSFT_SKIP)						\
		SETUP_SKIP(statement, "%s", why_);			\
	ASSERT_EQ(0, ret_) TH_LOG("memory setup: %s", why_);		\
} while (0)

/*
 * The same for a case's own memory, in a TEST body: maps m, or releases it
 * and skips the case (statement: return) where the kind is missing
 * outside the suite's guest; fails where the set-up fails.
 */
#define MEM_SETUP_OR_SKIP(statement, m, kind, nr_pages) do {		\
	struct mem *m_ = (m);						\
	char why_[256] = "";						\
	int ret_ = mem_setup(m_, kind, nr_pages, why_, sizeof(why_));	\
									\
	if (ret_ == KSFT_SKIP) {					\
		mem_teardown(m_);					\
		SKIP(statement, "%s", why_);				\
	}								\
	ASSERT_EQ(0, ret_) TH_LOG("memory setup: %s", why_);		\
} while (0)

/*
 * What the running kernel does, computed once: probed where the kernel can
 * be asked, from its version only where it cannot.
 */
struct kernel_expect {
	unsigned int major, minor, sublevel;	/* upstream version */
	/* Pins of the shared zero page are counted (not since v6.5, 6.1.130). */
	bool zero_page_pins_counted;
	/*
	 * FOLL_LONGTERM|FOLL_WRITE of a MAP_SHARED file on the test
	 * filesystem (refused since v6.5).
	 */
	bool longterm_write_file_ok;
	/*
	 * Pins an O_DIRECT read takes per page of user memory: 1 where
	 * direct I/O pins (FOLL_PIN, v6.5 for the block layer), 0 where it
	 * takes plain references; -1 when there is no test filesystem.
	 */
	int dio_pins;
	/*
	 * FOLL_LONGTERM of a hugetlb page in ZONE_MOVABLE WARNs in
	 * follow_hugetlb_page() and fails with -ENOMEM instead of migrating
	 * (seen on 6.1.192; v6.6 retired follow_hugetlb_page()).
	 */
	bool longterm_movable_hugetlb_warns;
};

const struct kernel_expect *kernel_expect(void);

/*
 * Whether the running kernel is upstream major.minor or newer: for where
 * nothing else can be asked, such as whether a skip's reason is true.
 */
bool kernel_at_least(unsigned int major, unsigned int minor);

/*
 * What io_uring_register_buffers() returns for a buffer of kind: 0 or
 * -errno. Before v6.5 io_uring checks the VMAs itself and refuses every
 * file that is neither shmem nor hugetlbfs (-EOPNOTSUPP); since, GUP
 * refuses a long-term write pin of a shared file with writeback (-EFAULT).
 * Both changes came in one release, so kernel_expect()'s probe of the
 * latter tells which.
 */
int uring_register_result(enum mem_kind kind);

#endif /* GUP_UTIL_H */
