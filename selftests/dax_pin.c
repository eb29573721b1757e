// SPDX-License-Identifier: GPL-2.0
/*
 * Pins of fsdax pages: a file mounted -o dax on pmem maps the file's storage
 * itself, ZONE_DEVICE pages with no page cache in front of them.
 *
 * - A long-term pin is refused (-EOPNOTSUPP): the file system must stay
 *   free to move or free its blocks, and nothing can migrate them away.
 * - What a device writes through a short-term pin is in the file when the
 *   pin is released, with no writeback: dirtying a DAX page marks nothing.
 * - Truncating or punching a hole in a pinned range waits until the pin is
 *   released (the file systems' break-layouts wait), so that no block is
 *   freed while a device may still write into it. So does the eviction of
 *   the file's inode since 6.15 (dax_break_layout_final()); before, it
 *   frees the blocks under the pin, with a WARNING: an expected failure,
 *   the bug docs/kernel-bugs/dax-evict-frees-pinned.md.
 *
 * The pin counts themselves are pin_count's, whose kinds include these.
 * Each case runs on ext4 and on XFS (mapped by PMDs where the kernel can).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	4
/* How long a pin is held while the file system is told to free it. */
#define HOLD_MS		300

FIXTURE(dax)
{
	int fd;
	struct mem mem;
};

FIXTURE_VARIANT(dax)
{
	enum mem_kind kind;
};

FIXTURE_VARIANT_ADD(dax, ext4) { .kind = MEM_DAX };
FIXTURE_VARIANT_ADD(dax, xfs) { .kind = MEM_DAX_XFS };

FIXTURE_SETUP(dax)
{
	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, variant->kind,
			     NR_PAGES);
}

FIXTURE_TEARDOWN(dax)
{
	if (self->fd >= 0)
		close(self->fd);
	mem_teardown(&self->mem);
}

/*
 * The pages are the file's storage: ZONE_DEVICE pages of the file's
 * mapping at its offsets, in no LRU.
 */
TEST_F(dax, pages_are_storage)
{
	struct gup_page_state ps[NR_PAGES];
	unsigned int i;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, ps, NR_PAGES));
	/* What each kernel makes of them: for the record. */
	TH_LOG("folio order %u, refcount %d, mapcount %d, flags %#x",
	       ps[0].order, ps[0].refcount, ps[0].mapcount, ps[0].flags);
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_EQ(GUP_PS_ZONE_DEVICE | GUP_PS_MAPPING,
			  ps[i].flags & (GUP_PS_ZONE_DEVICE | GUP_PS_MAPPING |
					 GUP_PS_LRU | GUP_PS_ANON))
			TH_LOG("page %u: flags %#x", i, ps[i].flags);
		/* A large folio's index is its first page's. */
		ASSERT_EQ(i, ps[i].index +
			     (ps[i].pfn & ((1ULL << ps[i].order) - 1)))
			TH_LOG("page %u: index %llu", i,
			       (unsigned long long)ps[i].index);
	}
}

/*
 * FOLL_LONGTERM is refused by both pin APIs, for read and for write, with
 * nothing taken: no pin counted, the refcounts as they were.
 */
TEST_F(dax, longterm_refused)
{
	static const unsigned int apis[] = { GUP_API_PUP, GUP_API_PUP_FAST };
	struct gup_page_state before[NR_PAGES], after[NR_PAGES];
	long long acq0, rel0;
	unsigned int a, w, i;
	__u32 id;

	SETUP_SKIPPED(return);
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, before,
				    NR_PAGES));
	for (a = 0; a < ARRAY_SIZE(apis); a++) {
		for (w = 0; w < 2; w++) {
			unsigned int flags = GUP_PIN_LONGTERM |
					     (w ? GUP_PIN_WRITE : 0);

			ASSERT_EQ(-EOPNOTSUPP,
				  gup_pin(self->fd, self->mem.addr,
					  NR_PAGES * page_size, apis[a], flags,
					  &id, NULL))
				TH_LOG("%s flags %#x", api_name(apis[a]),
				       flags);
		}
	}
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, after,
				    NR_PAGES));
	for (i = 0; i < NR_PAGES; i++)
		ASSERT_TRUE(page_counts_equal(&before[i], &after[i]))
			TH_LOG("page %u changed", i);
	ASSERT_EQ(acq0, vmstat("nr_foll_pin_acquired"));
	ASSERT_EQ(rel0, vmstat("nr_foll_pin_released"));
}

/*
 * A device writes through a short-term pin; released with the dirtying
 * unpin, the bytes are in the file, read back through the file system
 * with no fsync, on the same pages (no copy was made), none of them under
 * writeback: there is no page cache to write back from. The unpin still
 * marks them dirty: DAX's dirty_folio is noop_dirty_folio(), which sets
 * the flag and accounts nothing.
 */
TEST_F(dax, device_write_lands)
{
	struct gup_page_state before[NR_PAGES], ps[NR_PAGES];
	char buf[64], back[64];
	unsigned int i;
	__u32 id;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, before,
				    NR_PAGES));
	ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr, NR_PAGES * page_size,
			     GUP_API_PUP_FAST, GUP_PIN_WRITE, &id, NULL));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(0xa0 + i);
	ASSERT_EQ(0, gup_dma(self->fd, id, GUP_DMA_TO_PAGES,
			     page_size + 100, buf, sizeof(buf)));
	ASSERT_EQ(0, gup_unpin(self->fd, id, GUP_UNPIN_DIRTY_LOCK));

	ASSERT_EQ((ssize_t)sizeof(back),
		  pread(self->mem.fd, back, sizeof(back), page_size + 100));
	ASSERT_EQ(0, memcmp(buf, back, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, self->mem.addr + page_size + 100,
			    sizeof(buf)));
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, ps, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_EQ(before[i].pfn, ps[i].pfn);
		ASSERT_EQ(GUP_PS_DIRTY,
			  ps[i].flags & (GUP_PS_DIRTY | GUP_PS_WRITEBACK))
			TH_LOG("page %u: flags %#x, before the pin %#x", i,
			       ps[i].flags, before[i].flags);
	}
}

struct holder {
	int fd;
	__u32 id;
	size_t len;
	atomic_int freed;	/* set by the main thread when its call returned */
	int freed_at_unpin;	/* what the holder saw just before unpinning */
	int dma_ret, unpin_ret;
	char seen[64];		/* what the device read, while pinned */
};

/*
 * Holds the pin for HOLD_MS while the main thread frees the range, reads
 * the pinned pages through the device, then releases them.
 */
static void *hold_then_unpin(void *arg)
{
	struct holder *h = arg;
	struct timespec ts = {
		.tv_sec = HOLD_MS / 1000,
		.tv_nsec = (HOLD_MS % 1000) * 1000000L,
	};

	nanosleep(&ts, NULL);
	h->dma_ret = gup_dma(h->fd, h->id, GUP_DMA_FROM_PAGES, 0, h->seen,
			     sizeof(h->seen));
	h->freed_at_unpin = atomic_load(&h->freed);
	h->unpin_ret = gup_unpin(h->fd, h->id, GUP_UNPIN_PLAIN);
	return NULL;
}

enum free_how { TRUNCATE, PUNCH_HOLE, EVICT };

static const char * const free_name[] = {
	[TRUNCATE] = "ftruncate",
	[PUNCH_HOLE] = "the hole punch",
	[EVICT] = "the last unlink",
};

/*
 * Drops every reference to the file, the last one by unlink(): the inode
 * is evicted there and then.
 */
static int drop_file(struct mem *m)
{
	int ret;

	munmap(m->map, m->map_size);
	m->map = NULL;
	close(m->fd);
	m->fd = -1;
	ret = unlink(m->path);
	m->path[0] = '\0';
	return ret;
}

/*
 * Pins the first page, then frees it from the file while another thread
 * holds the pin: the call must return only after the unpin, and until
 * then the device still reads the file's data in the page. Returns
 * whether it did wait.
 */
static bool free_pinned(struct __test_metadata *_metadata, int fd,
			struct mem *m, enum free_how how)
{
	struct holder h = { .fd = fd };
	pthread_t thread;
	char want[sizeof(h.seen)];
	int ret;

	ASSERT_EQ(0, gup_pin(fd, m->addr, page_size, GUP_API_PUP_FAST,
			     GUP_PIN_WRITE, &h.id, NULL));
	ASSERT_EQ(0, pthread_create(&thread, NULL, hold_then_unpin, &h));
	if (how == TRUNCATE)
		ret = ftruncate(m->fd, 0);
	else if (how == PUNCH_HOLE)
		ret = fallocate(m->fd, FALLOC_FL_PUNCH_HOLE |
				FALLOC_FL_KEEP_SIZE, 0, page_size);
	else
		ret = drop_file(m);
	ret = ret ? -errno : 0;
	atomic_store(&h.freed, 1);
	EXPECT_EQ(0, pthread_join(thread, NULL));

	EXPECT_EQ(0, ret) TH_LOG("%s: %s", free_name[how], strerror(-ret));
	EXPECT_EQ(0, h.dma_ret);
	EXPECT_EQ(0, h.unpin_ret);
	if (how == EVICT && h.freed_at_unpin)
		return false;
	EXPECT_EQ(0, h.freed_at_unpin)
		TH_LOG("%s returned while the page was still pinned",
		       free_name[how]);
	/* Page 0 holds 1 in every byte (mem_setup()). */
	memset(want, 1, sizeof(want));
	EXPECT_EQ(0, memcmp(want, h.seen, sizeof(want)));
	return !h.freed_at_unpin;
}

TEST_F(dax, truncate_waits_for_unpin)
{
	struct stat st;

	SETUP_SKIPPED(return);
	free_pinned(_metadata, self->fd, &self->mem, TRUNCATE);
	ASSERT_EQ(0, fstat(self->mem.fd, &st));
	ASSERT_EQ(0, st.st_size);
}

TEST_F(dax, punch_hole_waits_for_unpin)
{
	char back[64], zero[64] = { 0 };

	SETUP_SKIPPED(return);
	free_pinned(_metadata, self->fd, &self->mem, PUNCH_HOLE);
	ASSERT_EQ((ssize_t)sizeof(back), pread(self->mem.fd, back,
					       sizeof(back), 0));
	ASSERT_EQ(0, memcmp(zero, back, sizeof(back)));
}

#define EVICT_BUG	"dax-evict-frees-pinned"

/*
 * The inode's eviction, when the last reference to the file goes, must
 * wait for the pin as truncate does. Kernels before 6.15 free the blocks
 * instead, with a WARNING in dax_disassociate_entry() (once a boot). The
 * same series made DAX pages refcounted and mapcounted like any folio: a
 * page at rest mapped once, not idle at refcount 1, tells which kernel
 * this is, and the bug must show on a kernel without it.
 */
TEST_F(dax, evict_waits_for_unpin)
{
	bool reworked, waited;
	struct gup_page_state ps;
	char mark[96];

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, &ps, 1));
	reworked = ps.mapcount > 0;
	snprintf(mark, sizeof(mark), "dax.%s.evict_waits_for_unpin%s",
		 variant->kind == MEM_DAX ? "ext4" : "xfs",
		 reworked ? "" : "+" EVICT_BUG);
	kmsg_case(mark, "begins");
	waited = free_pinned(_metadata, self->fd, &self->mem, EVICT);
	kmsg_case(mark, "ends");
	if (reworked) {
		ASSERT_TRUE(waited);
		return;
	}
	ASSERT_FALSE(waited)
		TH_LOG("eviction waited, DAX pages not mapcounted: %s is gone",
		       EVICT_BUG);
	known_bug_seen(_metadata,
		       "inode eviction frees a pinned DAX page's blocks: " EVICT_BUG);
}

TEST_HARNESS_MAIN
