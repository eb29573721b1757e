// SPDX-License-Identifier: GPL-2.0
/*
 * Exact pin counts: every case runs against every memory type.
 *
 * A small folio counts a FOLL_PIN as GUP_PIN_COUNTING_BIAS (1024) refcount,
 * a large folio as one refcount and one pincount; FOLL_GET is one refcount
 * either way; /proc/vmstat's nr_foll_pin_acquired/released count pinned
 * pages. What differs between kernels comes from kernel_expect().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	16	/* of the small memory types */
#define NR_PINNED	3	/* pages pinned by a case */
#define NR_PINS		2	/* times each is pinned */

FIXTURE(pin)
{
	int fd;
	struct mem mem;
	unsigned int pin_flags;	/* GUP_PIN_WRITE unless read-only */
};

FIXTURE_VARIANT(pin)
{
	enum mem_kind kind;
};

FIXTURE_VARIANT_ADD(pin, anon) { .kind = MEM_ANON };
FIXTURE_VARIANT_ADD(pin, anon_thp) { .kind = MEM_ANON_THP };
FIXTURE_VARIANT_ADD(pin, memfd) { .kind = MEM_MEMFD };
FIXTURE_VARIANT_ADD(pin, hugetlb_2m) { .kind = MEM_HUGETLB };
FIXTURE_VARIANT_ADD(pin, file_shared) { .kind = MEM_FILE_SHARED };
FIXTURE_VARIANT_ADD(pin, file_private) { .kind = MEM_FILE_PRIVATE };
FIXTURE_VARIANT_ADD(pin, zero_page) { .kind = MEM_ZERO_PAGE };
FIXTURE_VARIANT_ADD(pin, memfd_thp) { .kind = MEM_MEMFD_THP };
FIXTURE_VARIANT_ADD(pin, anon_thp_pte) { .kind = MEM_ANON_THP_PTE };
/* The first case's pins cross from one THP into the next. */
FIXTURE_VARIANT_ADD(pin, anon_thp_straddle) { .kind = MEM_ANON_THP_STRADDLE };
FIXTURE_VARIANT_ADD(pin, huge_zero) { .kind = MEM_HUGE_ZERO };
FIXTURE_VARIANT_ADD(pin, memfd_private) { .kind = MEM_MEMFD_PRIVATE };
FIXTURE_VARIANT_ADD(pin, tmpfs_huge) { .kind = MEM_TMPFS_HUGE };
FIXTURE_VARIANT_ADD(pin, tmpfs_within_size) { .kind = MEM_TMPFS_WITHIN_SIZE };
FIXTURE_VARIANT_ADD(pin, hugetlb_gigantic) { .kind = MEM_HUGETLB_GIGANTIC };
FIXTURE_VARIANT_ADD(pin, xfs_shared) { .kind = MEM_XFS_SHARED };
FIXTURE_VARIANT_ADD(pin, shared_anon) { .kind = MEM_SHARED_ANON };
FIXTURE_VARIANT_ADD(pin, shared_anon_mthp) { .kind = MEM_SHARED_ANON_MTHP };
FIXTURE_VARIANT_ADD(pin, dax) { .kind = MEM_DAX };
FIXTURE_VARIANT_ADD(pin, dax_xfs) { .kind = MEM_DAX_XFS };
/* Anonymous multi-size THP: the i-th smallest size the kernel offers. */
FIXTURE_VARIANT_ADD(pin, anon_mthp0) { .kind = MEM_ANON_MTHP };
FIXTURE_VARIANT_ADD(pin, anon_mthp1) { .kind = MEM_ANON_MTHP + 1 };
FIXTURE_VARIANT_ADD(pin, anon_mthp2) { .kind = MEM_ANON_MTHP + 2 };
FIXTURE_VARIANT_ADD(pin, anon_mthp3) { .kind = MEM_ANON_MTHP + 3 };
FIXTURE_VARIANT_ADD(pin, anon_mthp4) { .kind = MEM_ANON_MTHP + 4 };
FIXTURE_VARIANT_ADD(pin, anon_mthp5) { .kind = MEM_ANON_MTHP + 5 };
FIXTURE_VARIANT_ADD(pin, anon_mthp6) { .kind = MEM_ANON_MTHP + 6 };

FIXTURE_SETUP(pin)
{
	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, variant->kind, NR_PAGES);
	self->pin_flags = mem_pin_read_only(variant->kind) ? 0 : GUP_PIN_WRITE;
}

FIXTURE_TEARDOWN(pin)
{
	if (self->fd >= 0)
		close(self->fd);
	mem_teardown(&self->mem);
}

static bool is_zero(const struct gup_page_state *ps)
{
	return ps->flags & GUP_PS_ZERO_PAGE;
}

/*
 * The refcount and pincount a folio has after @pins more FOLL_PIN pins of
 * its pages: the rule this suite exists to check.
 */
static void expect_pinned(const struct gup_page_state *before,
			  unsigned int pins, struct gup_page_state *after)
{
	*after = *before;
	if (is_zero(before) && !kernel_expect()->zero_page_pins_counted)
		return;
	if (before->flags & GUP_PS_LARGE) {
		after->refcount += pins;
		after->pincount += pins;
	} else {
		after->refcount += pins * GUP_BIAS;
	}
	if (pins)
		after->flags |= GUP_PS_MAYBE_DMA_PINNED;
}

static void assert_counts(struct __test_metadata *_metadata, const char *when,
			  unsigned int page, const struct gup_page_state *want,
			  const struct gup_page_state *got)
{
	char w[96], g[96];

	ASSERT_TRUE(page_counts_equal(want, got))
		TH_LOG("%s, page %u: want %s, got %s", when, page,
		       page_counts_str(want, w, sizeof(w)),
		       page_counts_str(got, g, sizeof(g)));
}

/*
 * Pins and unpins once, so that a FOLL_LONGTERM pin has migrated the pages
 * out of ZONE_MOVABLE before a case counts: longterm_migrate.c is about
 * that migration.
 */
static void settle(struct __test_metadata *_metadata, int fd, void *addr,
		   size_t size, unsigned int api, unsigned int flags)
{
	__u32 id;

	if (!(flags & GUP_PIN_LONGTERM))
		return;
	ASSERT_EQ(0, gup_pin(fd, addr, size, api, flags, &id, NULL));
	ASSERT_EQ(0, gup_unpin(fd, id, GUP_UNPIN_PLAIN));
}

static __u64 folio_head(const struct gup_page_state *ps)
{
	return ps->pfn & ~((1ULL << ps->order) - 1);
}

/*
 * The pins page i's folio holds when each of the NR_PINNED pages is pinned
 * pins times: a large folio counts those of all its pinned pages.
 */
static unsigned int pins_per_folio(const struct gup_page_state *ps,
				   unsigned int i, unsigned int pins)
{
	unsigned int j, pages = 0;

	if (!(ps[i].flags & GUP_PS_LARGE))
		return pins;
	for (j = 0; j < NR_PINNED; j++)
		pages += folio_head(&ps[j]) == folio_head(&ps[i]);
	return pins * pages;
}

/*
 * NR_PINS sessions pin the first NR_PINNED pages with each pin API, with and
 * without FOLL_LONGTERM; the unpins restore the exact starting state.
 */
TEST_F(pin, pin_counts)
{
	static const struct { unsigned int api, flags; } ways[] = {
		{ GUP_API_PUP, 0 },
		{ GUP_API_PUP_FAST, 0 },
		{ GUP_API_PUP, GUP_PIN_LONGTERM },
		{ GUP_API_PUP_FAST, GUP_PIN_LONGTERM },
	};
	struct gup_page_state before[NR_PINNED], during[NR_PINNED], want;
	__u32 id[NR_PINS];
	unsigned int w, p, i;

	SETUP_SKIPPED(return);
	for (w = 0; w < ARRAY_SIZE(ways); w++) {
		unsigned int flags = pin_flags_allowed(variant->kind,
						   ways[w].flags |
						   self->pin_flags);

		settle(_metadata, self->fd, self->mem.addr,
		       NR_PINNED * page_size, ways[w].api, flags);
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, before,
					    NR_PINNED));
		for (p = 0; p < NR_PINS; p++)
			ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr,
					     NR_PINNED * page_size,
					     ways[w].api, flags, &id[p], NULL))
				TH_LOG("%s flags %#x", api_name(ways[w].api),
				       flags);
		ASSERT_EQ(0, gup_state(self->fd, id[0], 0, during, NR_PINNED));
		for (i = 0; i < NR_PINNED; i++) {
			expect_pinned(&before[i],
				      pins_per_folio(before, i, NR_PINS),
				      &want);
			assert_counts(_metadata, api_name(ways[w].api), i,
				      &want, &during[i]);
		}
		for (p = 0; p < NR_PINS; p++)
			ASSERT_EQ(0, gup_unpin(self->fd, id[p],
					       GUP_UNPIN_PLAIN));
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, during,
					    NR_PINNED));
		for (i = 0; i < NR_PINNED; i++)
			assert_counts(_metadata, "after unpin", i,
				      &before[i], &during[i]);
	}
}

/*
 * Every way a pin is released gives back exactly what it took, for every
 * kind: the dirtying ways too, and the range unpin, whose runs of
 * physically contiguous pages may cross from one folio into the next (as
 * anon_thp_straddle's can). The dirtying ways need a pin for write.
 */
TEST_F(pin, unpin_ways)
{
	static const struct { unsigned int how; bool write; } ways[] = {
		{ GUP_UNPIN_PLAIN, false },
		{ GUP_UNPIN_CLEAN_LOCK, false },
		{ GUP_UNPIN_DIRTY_LOCK, true },
		{ GUP_UNPIN_RANGE_DIRTY, true },
		{ GUP_UNPIN_DEVICE_DIRTY, true },
	};
	struct gup_page_state before[NR_PINNED], during[NR_PINNED], want;
	unsigned int w, i;
	__u32 id;

	SETUP_SKIPPED(return);
	for (w = 0; w < ARRAY_SIZE(ways); w++) {
		if (ways[w].write && !self->pin_flags)
			continue;
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, before,
					    NR_PINNED));
		ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr,
				     NR_PINNED * page_size, GUP_API_PUP_FAST,
				     self->pin_flags, &id, NULL));
		ASSERT_EQ(0, gup_state(self->fd, id, 0, during, NR_PINNED));
		for (i = 0; i < NR_PINNED; i++) {
			expect_pinned(&before[i], pins_per_folio(before, i, 1),
				      &want);
			assert_counts(_metadata, "pinned", i, &want,
				      &during[i]);
		}
		ASSERT_EQ(0, gup_unpin(self->fd, id, ways[w].how))
			TH_LOG("unpin way %u", ways[w].how);
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, during,
					    NR_PINNED));
		for (i = 0; i < NR_PINNED; i++)
			assert_counts(_metadata, "after the unpin", i,
				      &before[i], &during[i]);
	}
}

/* FOLL_GET is one reference per page and never a pin. */
TEST_F(pin, get_counts)
{
	static const unsigned int apis[] = { GUP_API_GUP, GUP_API_GUP_FAST };
	struct gup_page_state before, during;
	unsigned int a;
	__u32 id;

	SETUP_SKIPPED(return);
	for (a = 0; a < ARRAY_SIZE(apis); a++) {
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr,
					    &before, 1));
		ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr, page_size,
				     apis[a], self->pin_flags, &id, NULL));
		ASSERT_EQ(0, gup_state(self->fd, id, 0, &during, 1));
		ASSERT_EQ(before.pfn, during.pfn);
		ASSERT_EQ(before.refcount + 1, during.refcount)
			TH_LOG("%s", api_name(apis[a]));
		ASSERT_EQ(before.pincount, during.pincount);
		ASSERT_EQ(before.flags & GUP_PS_MAYBE_DMA_PINNED,
			  during.flags & GUP_PS_MAYBE_DMA_PINNED);
		ASSERT_EQ(0, gup_unpin(self->fd, id, GUP_UNPIN_PUT));
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr,
					    &during, 1));
		ASSERT_EQ(before.refcount, during.refcount);
	}
}

/*
 * The bias scheme's documented false positive: enough FOLL_GET references
 * to reach GUP_PIN_COUNTING_BIAS make a small folio look dma-pinned. A large
 * folio keeps an exact pincount and does not.
 */
TEST_F(pin, get_bias_false_positive)
{
	struct gup_page_state before, ps;
	__u32 *ids;
	int i, nr;

	SETUP_SKIPPED(return);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, &before, 1));
	ASSERT_EQ(0, before.flags & GUP_PS_MAYBE_DMA_PINNED);
	ASSERT_GT(GUP_BIAS, before.refcount);
	nr = GUP_BIAS - before.refcount;
	ids = calloc(nr, sizeof(*ids));
	ASSERT_NE(NULL, ids);

	for (i = 0; i < nr; i++) {
		ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr, page_size,
				     GUP_API_GUP_FAST, 0, &ids[i], NULL));
		if (i == nr - 2) {
			ASSERT_EQ(0, gup_state(self->fd, ids[i], 0, &ps, 1));
			ASSERT_EQ(GUP_BIAS - 1, ps.refcount);
			ASSERT_EQ(0, ps.flags & GUP_PS_MAYBE_DMA_PINNED);
		}
	}
	ASSERT_EQ(0, gup_state(self->fd, ids[0], 0, &ps, 1));
	ASSERT_EQ(GUP_BIAS, ps.refcount);
	if (ps.flags & GUP_PS_LARGE) {
		ASSERT_EQ(0, ps.flags & GUP_PS_MAYBE_DMA_PINNED);
	} else {
		ASSERT_EQ(GUP_PS_MAYBE_DMA_PINNED,
			  ps.flags & GUP_PS_MAYBE_DMA_PINNED);
	}

	for (i = 0; i < nr; i++)
		ASSERT_EQ(0, gup_unpin(self->fd, ids[i], GUP_UNPIN_PUT));
	free(ids);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, &ps, 1));
	ASSERT_EQ(before.refcount, ps.refcount);
	ASSERT_EQ(0, ps.flags & GUP_PS_MAYBE_DMA_PINNED);
}

/*
 * nr_foll_pin_acquired/released move by exactly the pages pinned and
 * unpinned, for every API; FOLL_GET and zero-page pins move neither.
 */
TEST_F(pin, vmstat_counts)
{
	static const struct { unsigned int api, flags; } ways[] = {
		{ GUP_API_GUP, 0 },
		{ GUP_API_GUP_FAST, 0 },
		{ GUP_API_PUP, 0 },
		{ GUP_API_PUP_FAST, 0 },
		{ GUP_API_PUP, GUP_PIN_LONGTERM },
		{ GUP_API_PUP_FAST, GUP_PIN_LONGTERM },
	};
	long long acq0, rel0, acq, rel, want;
	struct gup_page_state ps;
	__u64 nr;
	unsigned int w, flags;
	__u32 id;

	SETUP_SKIPPED(return);
	ASSERT_LE(0, vmstat("nr_foll_pin_acquired"))
		TH_LOG("no nr_foll_pin_acquired in /proc/vmstat");

	for (w = 0; w < ARRAY_SIZE(ways); w++) {
		flags = pin_flags_allowed(variant->kind,
					  ways[w].flags | self->pin_flags);
		settle(_metadata, self->fd, self->mem.addr, self->mem.size,
		       ways[w].api, flags);
		/*
		 * Read after settle(): since v6.2 a read-only FOLL_LONGTERM
		 * pin replaces the shared zero page with an anonymous page.
		 */
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, &ps, 1));

		acq0 = vmstat("nr_foll_pin_acquired");
		rel0 = vmstat("nr_foll_pin_released");
		ASSERT_EQ(0, gup_pin(self->fd, self->mem.addr, self->mem.size,
				     ways[w].api, flags, &id, &nr));
		ASSERT_EQ(self->mem.nr_pages, nr);
		acq = vmstat("nr_foll_pin_acquired");
		want = api_pins(ways[w].api) ? (long long)nr : 0;
		if (is_zero(&ps) && !kernel_expect()->zero_page_pins_counted)
			want = 0;
		ASSERT_EQ(want, acq - acq0)
			TH_LOG("%s flags %#x", api_name(ways[w].api), flags);
		ASSERT_EQ(0, vmstat("nr_foll_pin_released") - rel0)
			TH_LOG("%s flags %#x: zero page %d, pins counted %d",
			       api_name(ways[w].api), flags, is_zero(&ps),
			       kernel_expect()->zero_page_pins_counted);

		ASSERT_EQ(0, gup_unpin(self->fd, id, plain_unpin(ways[w].api)));
		rel = vmstat("nr_foll_pin_released");
		ASSERT_EQ(want, rel - rel0);
		ASSERT_EQ(acq, vmstat("nr_foll_pin_acquired"));
	}
}

/* A test that dies with pins held leaks nothing: close releases it all. */
TEST_F(pin, close_releases)
{
	struct gup_page_state before[NR_PINNED], held[NR_PINNED];
	struct gup_page_state after[NR_PINNED];
	struct pin_longterm_test lt = {
		.addr = (uintptr_t)self->mem.addr,
		.size = NR_PINNED * page_size,
	};
	/* What the kernel refuses long-term (fsdax) has no long-term session. */
	bool longterm = pin_flags_allowed(variant->kind, GUP_PIN_LONGTERM) &
			GUP_PIN_LONGTERM;
	long long acq0, rel0, pins;
	unsigned int i;
	__u32 id;
	int fd;

	SETUP_SKIPPED(return);
	if (pin_flags_allowed(variant->kind, GUP_PIN_LONGTERM | self->pin_flags) &
	    GUP_PIN_WRITE)
		lt.flags = PIN_LONGTERM_TEST_FLAG_USE_WRITE;
	settle(_metadata, self->fd, self->mem.addr, NR_PINNED * page_size,
	       GUP_API_PUP_FAST,
	       pin_flags_allowed(variant->kind,
				 GUP_PIN_LONGTERM | self->pin_flags));
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, before,
				    NR_PINNED));
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");

	fd = gup_open();
	ASSERT_LE(0, fd);
	for (i = 0; i < NR_PINS; i++)
		ASSERT_EQ(0, gup_pin(fd, self->mem.addr, NR_PINNED * page_size,
				     GUP_API_PUP_FAST, self->pin_flags, &id,
				     NULL));
	ASSERT_EQ(0, gup_pin(fd, self->mem.addr, NR_PINNED * page_size,
			     GUP_API_GUP, self->pin_flags, &id, NULL));
	if (longterm)
		ASSERT_EQ(0, ioctl(fd, PIN_LONGTERM_TEST_START, &lt));

	/* Held before the close: else "restored" would prove nothing. */
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, held,
				    NR_PINNED));
	pins = (NR_PINS + longterm) * NR_PINNED;
	if (is_zero(&held[0]) && !kernel_expect()->zero_page_pins_counted)
		pins = 0;
	ASSERT_EQ(pins, vmstat("nr_foll_pin_acquired") - acq0);
	for (i = 0; pins && i < NR_PINNED; i++)
		ASSERT_TRUE(held[i].flags & GUP_PS_MAYBE_DMA_PINNED)
			TH_LOG("page %u not dma-pinned before the close", i);
	ASSERT_EQ(0, close(fd));

	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, after,
				    NR_PINNED));
	for (i = 0; i < NR_PINNED; i++)
		assert_counts(_metadata, "after close", i, &before[i],
			      &after[i]);
	ASSERT_EQ(vmstat("nr_foll_pin_acquired") - acq0,
		  vmstat("nr_foll_pin_released") - rel0);
}

/*
 * A write pin of a private mapping breaks COW before it returns: the pinned
 * page is the one mapped, anonymous and exclusive, and what the device sees
 * through the pin is what user space sees. A shared mapping pins the page
 * cache page itself.
 */
TEST_F(pin, write_pin_coherent)
{
	struct gup_page_state pinned[2], mapped[2];
	char *user = self->mem.addr;
	char buf[64];
	__u32 id;
	int i;

	SETUP_SKIPPED(return);
	/* Two pages: in a THP the second is a tail page. */
	ASSERT_EQ(0, gup_pin(self->fd, user, 2 * page_size, GUP_API_PUP_FAST,
			     GUP_PIN_WRITE, &id, NULL));
	ASSERT_EQ(0, gup_state(self->fd, id, 0, pinned, 2));
	ASSERT_EQ(0, gup_state_addr(self->fd, user, mapped, 2));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(pinned[i].pfn, mapped[i].pfn);
		ASSERT_EQ(0, pinned[i].flags & GUP_PS_ZERO_PAGE);
		if (mem_private(variant->kind)) {
			ASSERT_EQ(GUP_PS_ANON | GUP_PS_ANON_EXCLUSIVE,
				  pinned[i].flags &
				  (GUP_PS_ANON | GUP_PS_ANON_EXCLUSIVE))
				TH_LOG("page %d", i);
		} else {
			ASSERT_EQ(0, pinned[i].flags & GUP_PS_ANON);
		}
	}

	memcpy(user, "written by user space", 22);
	ASSERT_EQ(0, gup_dma(self->fd, id, GUP_DMA_FROM_PAGES, 0, buf, 22));
	ASSERT_EQ(0, memcmp(buf, "written by user space", 22));
	ASSERT_EQ(0, gup_dma(self->fd, id, GUP_DMA_TO_PAGES, 0,
			     "written by the device", 22));
	ASSERT_EQ(0, memcmp(user, "written by the device", 22));
	ASSERT_EQ(0, gup_unpin(self->fd, id, GUP_UNPIN_DIRTY_LOCK));
}

/* Upstream's PIN_LONGTERM_TEST_READ returns what the pinned pages hold. */
TEST_F(pin, longterm_test_read)
{
	size_t size = NR_PINNED * page_size;
	struct pin_longterm_test lt = {
		.addr = (uintptr_t)self->mem.addr,
		.size = size,
		.flags = PIN_LONGTERM_TEST_FLAG_USE_FAST,
	};
	__u64 to;
	char *buf;

	SETUP_SKIPPED(return);
	if (!(pin_flags_allowed(variant->kind, GUP_PIN_LONGTERM) &
	      GUP_PIN_LONGTERM)) {
		/* The kernel refuses FOLL_LONGTERM here (fsdax: dax_pin.c). */
		ASSERT_EQ(-1, ioctl(self->fd, PIN_LONGTERM_TEST_START, &lt));
		ASSERT_EQ(EOPNOTSUPP, errno);
		return;
	}
	buf = malloc(size);
	ASSERT_NE(NULL, buf);
	to = (uintptr_t)buf;
	ASSERT_EQ(0, ioctl(self->fd, PIN_LONGTERM_TEST_START, &lt));
	ASSERT_EQ(-1, ioctl(self->fd, PIN_LONGTERM_TEST_START, &lt));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(self->fd, PIN_LONGTERM_TEST_READ, &to));
	ASSERT_EQ(0, memcmp(buf, self->mem.addr, size));
	ASSERT_EQ(0, ioctl(self->fd, PIN_LONGTERM_TEST_STOP));
	free(buf);
}

/*
 * A zero_page row alone cannot tell a kernel that does not count zero-page
 * pins from a module that pins nothing; a range that mixes zero pages with
 * written pages can. The session holds the zero page itself where nothing
 * was written, and the counters move by exactly the pages the kernel
 * counts: all four where zero-page pins count, the two written ones where
 * they do not.
 */
TEST(zero_page_mixed)
{
	static const unsigned int apis[] = { GUP_API_PUP, GUP_API_PUP_FAST };
	struct gup_page_state before[4], held[4], want;
	long long acq0, rel0, pins;
	unsigned int a, i;
	char *addr;
	__u64 nr;
	__u32 id;
	int fd;

	fd = gup_open();
	if (gup_open_skip(fd))
		SKIP(return, "%s", gup_open_skip(fd));
	ASSERT_LE(0, fd) TH_LOG("open gup_test: %s", strerror(-fd));
	addr = mmap(NULL, 4 * page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, addr);
	madvise(addr, 4 * page_size, MADV_NOHUGEPAGE);
	for (i = 0; i < 4; i++) {
		if (i & 1)
			addr[i * page_size] = 1;
		else
			touch_read(addr + i * page_size);
	}
	ASSERT_EQ(0, gup_state_addr(fd, addr, before, 4));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(i & 1 ? 0 : GUP_PS_ZERO_PAGE,
			  before[i].flags & GUP_PS_ZERO_PAGE)
			TH_LOG("page %u", i);

	pins = kernel_expect()->zero_page_pins_counted ? 4 : 2;
	for (a = 0; a < ARRAY_SIZE(apis); a++) {
		acq0 = vmstat("nr_foll_pin_acquired");
		rel0 = vmstat("nr_foll_pin_released");
		ASSERT_EQ(0, gup_pin(fd, addr, 4 * page_size, apis[a], 0, &id,
				     &nr));
		ASSERT_EQ(4, nr);
		ASSERT_EQ(pins, vmstat("nr_foll_pin_acquired") - acq0)
			TH_LOG("%s", api_name(apis[a]));
		ASSERT_EQ(0, gup_state(fd, id, 0, held, 4));
		for (i = 0; i < 4; i++) {
			expect_pinned(&before[i], 1, &want);
			assert_counts(_metadata, api_name(apis[a]), i, &want,
				      &held[i]);
			ASSERT_EQ(before[i].flags & GUP_PS_ZERO_PAGE,
				  held[i].flags & GUP_PS_ZERO_PAGE);
		}
		ASSERT_EQ(0, gup_unpin(fd, id, GUP_UNPIN_PLAIN));
		ASSERT_EQ(pins, vmstat("nr_foll_pin_released") - rel0);
	}
	munmap(addr, 4 * page_size);
	close(fd);
}

/* The anon_mthp variants cover every size the kernel offers. */
TEST(mthp_sizes_covered)
{
	size_t sizes[16];
	int n = mthp_sizes(sizes, 16);

	if (n < 0)
		SKIP(return, "no multi-size THP in this kernel");
	ASSERT_GE(MEM_ANON_MTHP_END - MEM_ANON_MTHP, n)
		TH_LOG("%d sizes below the PMD's: pin_count has variants for the first %d",
		       n, MEM_ANON_MTHP_END - MEM_ANON_MTHP);
}

TEST_HARNESS_MAIN
