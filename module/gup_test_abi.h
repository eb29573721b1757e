/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioctl ABI of /sys/kernel/debug/gup_test, shared by the module and every
 * user-space program of the suite.
 *
 * 'g' 1..9 are upstream's mm/gup_test.h ABI, unchanged, so that upstream's
 * own selftests run against this module. 'g' 10 onwards are this suite's:
 * pin sessions, per-page state, simulated device DMA and a nanosecond
 * benchmark.
 */
#ifndef GUP_TEST_ABI_H
#define GUP_TEST_ABI_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * The module's file is /sys/kernel/debug/<name>: GUP_TEST_NAME, or
 * GUP_TEST_NAME_BESIDE on a kernel whose own CONFIG_GUP_TEST holds
 * GUP_TEST_NAME, or what name= asked for. GUP_TEST_NAME_PARAM reads back
 * the name in use.
 */
#define GUP_TEST_NAME		"gup_test"
#define GUP_TEST_NAME_BESIDE	"gup_test_pin"
#define GUP_TEST_NAME_PARAM	"/sys/module/gup_test/parameters/name"

/* Upstream ABI. */
#define GUP_FAST_BENCHMARK	_IOWR('g', 1, struct gup_test)
#define PIN_FAST_BENCHMARK	_IOWR('g', 2, struct gup_test)
#define PIN_LONGTERM_BENCHMARK	_IOWR('g', 3, struct gup_test)
#define GUP_BASIC_TEST		_IOWR('g', 4, struct gup_test)
#define PIN_BASIC_TEST		_IOWR('g', 5, struct gup_test)
#define DUMP_USER_PAGES_TEST	_IOWR('g', 6, struct gup_test)
#define PIN_LONGTERM_TEST_START	_IOW('g', 7, struct pin_longterm_test)
#define PIN_LONGTERM_TEST_STOP	_IO('g', 8)
#define PIN_LONGTERM_TEST_READ	_IOW('g', 9, __u64)

#define GUP_TEST_MAX_PAGES_TO_DUMP		8

#define GUP_TEST_FLAG_DUMP_PAGES_USE_PIN	0x1

/*
 * gup_flags bits that upstream's user space sends: the values FOLL_WRITE and
 * FOLL_TOUCH had in include/linux/mm.h when the ABI was made. The module
 * translates them to the running kernel's FOLL_* values and rejects any
 * other bit with -EINVAL.
 */
#define GUP_TEST_FOLL_WRITE	0x01
#define GUP_TEST_FOLL_TOUCH	0x02

struct gup_test {
	__u64 get_delta_usec;
	__u64 put_delta_usec;
	__u64 addr;
	__u64 size;
	__u32 nr_pages_per_call;
	__u32 gup_flags;
	__u32 test_flags;
	/* 1-based page numbers from .addr; 0 means no page. */
	__u32 which_pages[GUP_TEST_MAX_PAGES_TO_DUMP];
};

#define PIN_LONGTERM_TEST_FLAG_USE_WRITE	1
#define PIN_LONGTERM_TEST_FLAG_USE_FAST		2

struct pin_longterm_test {
	__u64 addr;
	__u64 size;
	__u32 flags;
};

/*
 * Pin sessions.
 *
 * GUP_PIN_START takes references on [addr, addr + size) of the caller's
 * address space with one of the GUP_API_* functions and keeps them until
 * GUP_PIN_STOP, or until the file is closed. Sessions are per open file and
 * numbered from 1, cyclically: an id is not given again soon after its
 * session stopped. Closing the file releases what it still holds as the
 * plain way that matches the API, except that the pages GUP_DMA wrote into
 * a GUP_PIN_WRITE session are marked dirty (as GUP_UNPIN_DEVICE_DIRTY).
 *
 * Limits: what one file holds, over every path (sessions, the long-term
 * test, upstream's ioctls for the length of the call, GUP_BENCH for one
 * batch), is at most the module parameter max_pages_per_file, and what all
 * files hold together at most max_pages_total; both take 1..2^20, which
 * keeps any page's refcount far below overflow. A request is counted in
 * full before anything is pinned.
 *
 * Errors, checked in this order: unknown api or flags, size 0, unaligned
 * addr or size, addr + size overflowing: -EINVAL; a range outside the user
 * address space: -EFAULT; more pages than the limits leave: -E2BIG; nothing
 * could be pinned: the error of the gup call (-EFAULT for an unmapped
 * range). When only a prefix could be pinned, the session holds that prefix
 * and nr_pages says how long it is.
 */
#define GUP_API_GUP		0	/* get_user_pages(), FOLL_GET */
#define GUP_API_GUP_FAST	1	/* get_user_pages_fast(), FOLL_GET */
#define GUP_API_PUP		2	/* pin_user_pages(), FOLL_PIN */
#define GUP_API_PUP_FAST	3	/* pin_user_pages_fast(), FOLL_PIN */
#define GUP_API_NR		4

#define GUP_PIN_WRITE		0x1	/* FOLL_WRITE */
#define GUP_PIN_LONGTERM	0x2	/* FOLL_LONGTERM: GUP_API_PUP* only */
#define GUP_PIN_FLAGS		(GUP_PIN_WRITE | GUP_PIN_LONGTERM)

struct gup_pin_session {
	__u64 addr;		/* in */
	__u64 size;		/* in: bytes */
	__u32 api;		/* in: GUP_API_* */
	__u32 flags;		/* in: GUP_PIN_* */
	__u32 id;		/* out: session id, never 0 */
	__u32 reserved;		/* must be 0 */
	__u64 nr_pages;		/* out: pages held */
};

/*
 * How GUP_PIN_STOP releases a session. FOLL_GET sessions take
 * GUP_UNPIN_PUT, and GUP_UNPIN_PUT_DEVICE_DIRTY if taken for write;
 * FOLL_PIN sessions take the others. A mismatch is -EINVAL and leaves the
 * session held.
 */
#define GUP_UNPIN_PUT		0	/* put_page() */
#define GUP_UNPIN_PLAIN		1	/* unpin_user_pages() */
#define GUP_UNPIN_DIRTY_LOCK	2	/* unpin_user_pages_dirty_lock(, true) */
#define GUP_UNPIN_CLEAN_LOCK	3	/* unpin_user_pages_dirty_lock(, false) */
#define GUP_UNPIN_RANGE_DIRTY	4	/* unpin_user_page_range_dirty_lock(, true)
					 * over each physically contiguous run
					 */
#define GUP_UNPIN_DEVICE_DIRTY	5	/* dirty only the pages GUP_DMA wrote */
#define GUP_UNPIN_PUT_DEVICE_DIRTY 6	/* set_page_dirty_lock() on the pages
					 * GUP_DMA wrote, then put_page(): how
					 * drivers released before FOLL_PIN
					 */
#define GUP_UNPIN_NR		7

struct gup_unpin_session {
	__u32 id;
	__u32 how;		/* GUP_UNPIN_* */
};

/*
 * Per-page state, read with the kernel's own accessors.
 *
 * With id != 0, pages [start, start + count) of that session (start is a page
 * index into the session). With id == 0, count pages of the caller's address
 * space from address start: each is looked up with a temporary FOLL_GET
 * reference (which may fault it in, read-only) that is not included in the
 * refcount reported. count is at most GUP_QUERY_MAX; on return it says how
 * many entries were filled.
 */
#define GUP_QUERY_MAX		4096

#define GUP_PS_MAYBE_DMA_PINNED	0x0001	/* folio_maybe_dma_pinned() */
#define GUP_PS_DIRTY		0x0002	/* folio_test_dirty() */
#define GUP_PS_ANON		0x0004	/* folio_test_anon() */
#define GUP_PS_ANON_EXCLUSIVE	0x0008	/* PageAnonExclusive() */
#define GUP_PS_HUGETLB		0x0010	/* folio_test_hugetlb() */
#define GUP_PS_LARGE		0x0020	/* folio_test_large() */
#define GUP_PS_MOVABLE		0x0040	/* in ZONE_MOVABLE */
#define GUP_PS_ZERO_PAGE	0x0080	/* the shared zero page */
#define GUP_PS_LRU		0x0100	/* folio_test_lru() */
#define GUP_PS_WRITEBACK	0x0200	/* folio_test_writeback() */
#define GUP_PS_UPTODATE		0x0400	/* folio_test_uptodate() */
#define GUP_PS_SWAPBACKED	0x0800	/* folio_test_swapbacked() */
#define GUP_PS_LONGTERM_OK	0x1000	/* folio_is_longterm_pinnable() */
#define GUP_PS_PRIVATE		0x2000	/* folio_test_private(): buffers */
#define GUP_PS_MAPPING		0x4000	/* folio_mapping() != NULL: in a page
					 * cache or the swap cache
					 */
#define GUP_PS_ZONE_DEVICE	0x8000	/* is_zone_device_page(): DAX, device
					 * memory
					 */

struct gup_page_state {
	__u64 pfn;
	__u64 index;		/* folio index within its mapping */
	__s32 refcount;		/* folio_ref_count() */
	__s32 mapcount;		/* page_mapcount(); folio_mapcount() since 6.12 */
	__s32 pincount;		/* exact pincount of a large folio, else 0 */
	__u32 order;		/* folio_order() */
	__u32 flags;		/* GUP_PS_* */
	__s32 nid;		/* NUMA node */
	__u32 zone;		/* zone index: ZONE_DMA = 0, ... */
	__u32 reserved;
};

struct gup_page_query {
	__u32 id;		/* session, or 0 for addresses */
	__u32 reserved;		/* must be 0 */
	__u64 start;		/* page index (id != 0) or address (id == 0) */
	__u64 count;		/* in: entries; out: entries filled */
	__u64 states;		/* user pointer to struct gup_page_state[count] */
};

/*
 * Simulated device DMA into or out of a session's pages: each page is
 * accessed through a kernel mapping (kmap_local_page()), as a device would,
 * without touching its dirty state or the user's page tables. GUP_DMA_TO_PAGES
 * needs a session pinned with GUP_PIN_WRITE (-EPERM otherwise). The byte range
 * [offset, offset + len) of the session must lie inside it (-EINVAL).
 */
#define GUP_DMA_TO_PAGES	0	/* device writes: buf -> pages */
#define GUP_DMA_FROM_PAGES	1	/* device reads: pages -> buf */

struct gup_dma {
	__u32 id;
	__u32 dir;		/* GUP_DMA_* */
	__u64 offset;		/* bytes from the start of the session */
	__u64 len;		/* bytes */
	__u64 buf;		/* user pointer */
};

/*
 * Benchmark with nanosecond resolution. Pins [addr, addr + size) with api
 * and flags, nr_pages_per_call pages per call, and releases what it pinned
 * (put_page() for FOLL_GET, unpin_user_pages() for FOLL_PIN), in batches of
 * at most GUP_BENCH_BATCH pages so that memory use is bounded whatever the
 * range. Only the gup and release calls are inside the timed regions.
 * nr_pages_per_call is 1..GUP_BENCH_BATCH (-EINVAL); the range at most 2^20
 * pages (-E2BIG). Each batch counts against the limits while it is held
 * (-E2BIG); mmap_lock is dropped between batches, and a fatal signal ends
 * the run (-EINTR if nothing was measured).
 */
#define GUP_BENCH_BATCH		1024

struct gup_bench {
	__u64 addr;		/* in */
	__u64 size;		/* in: bytes */
	__u32 api;		/* in: GUP_API_* */
	__u32 flags;		/* in: GUP_PIN_* */
	__u32 nr_pages_per_call;	/* in */
	__u32 reserved;		/* must be 0 */
	__u64 pin_ns;		/* out: time in the gup calls */
	__u64 unpin_ns;		/* out: time in the release calls */
	__u64 nr_pages;		/* out: pages pinned and released */
	__u64 nr_calls;		/* out: gup calls made */
};

#define GUP_PIN_START		_IOWR('g', 10, struct gup_pin_session)
#define GUP_PIN_STOP		_IOW('g', 11, struct gup_unpin_session)
#define GUP_PIN_QUERY		_IOWR('g', 12, struct gup_page_query)
#define GUP_DMA			_IOW('g', 13, struct gup_dma)
#define GUP_BENCH		_IOWR('g', 14, struct gup_bench)

/*
 * mmap() of the file maps one zeroed page of the module's as a driver maps
 * device memory, with remap_pfn_range(): a VM_IO | VM_PFNMAP mapping, which
 * get and pin refuse. The mapping must be MAP_SHARED, at offset 0 and one
 * page long (-EINVAL). Each open file has its own page; it lives as long
 * as the file and any mapping of it.
 */

#ifndef __KERNEL__
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The path of the module's file, written into buf: $GUP_TEST_DEV if set,
 * else where the loaded module says it is, else the default.
 */
static inline const char *gup_test_path(char *buf, size_t size)
{
	const char *dev = getenv("GUP_TEST_DEV");
	char file[64] = GUP_TEST_NAME;
	FILE *f;

	if (dev) {
		snprintf(buf, size, "%s", dev);
		return buf;
	}
	f = fopen(GUP_TEST_NAME_PARAM, "r");
	if (f) {
		if (!fgets(file, sizeof(file), f) || file[0] == '\n')
			snprintf(file, sizeof(file), "%s", GUP_TEST_NAME);
		file[strcspn(file, "\n")] = '\0';
		fclose(f);
	}
	snprintf(buf, size, "/sys/kernel/debug/%s", file);
	return buf;
}
#endif

#endif /* GUP_TEST_ABI_H */
