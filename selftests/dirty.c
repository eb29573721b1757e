// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty marking: what a device writes through a pin reaches the disk only
 * if the unpin marks the pages dirty.
 *
 * The device (GUP_DMA) writes through a kernel mapping, as DMA would: the
 * page table entries stay clean and so does the page. Writeback while the
 * page is pinned finds nothing to write. If the unpin does not dirty the
 * page, it is later evicted clean and the device's data is gone.
 *
 * Every case is one unpin way crossed with every memory type; the page's
 * dirty state is read through the module and, as an independent witness,
 * /proc/kpageflags.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	4	/* of the small memory types */
#define OLD		0x11	/* what the file held before */
#define NEW		0xd5	/* what the device writes */

FIXTURE(dirty)
{
	int fd;
	struct mem mem;
	unsigned char *old;	/* expected content of every page before */
};

FIXTURE_VARIANT(dirty)
{
	enum mem_kind kind;
};

FIXTURE_VARIANT_ADD(dirty, file_shared) { .kind = MEM_FILE_SHARED };
FIXTURE_VARIANT_ADD(dirty, memfd) { .kind = MEM_MEMFD };
FIXTURE_VARIANT_ADD(dirty, memfd_thp) { .kind = MEM_MEMFD_THP };
FIXTURE_VARIANT_ADD(dirty, anon) { .kind = MEM_ANON };
FIXTURE_VARIANT_ADD(dirty, anon_thp) { .kind = MEM_ANON_THP };
/* The smallest multi-size THP: several folios in the range. */
FIXTURE_VARIANT_ADD(dirty, anon_mthp0) { .kind = MEM_ANON_MTHP };
FIXTURE_VARIANT_ADD(dirty, tmpfs_huge) { .kind = MEM_TMPFS_HUGE };
FIXTURE_VARIANT_ADD(dirty, tmpfs_within_size) { .kind = MEM_TMPFS_WITHIN_SIZE };
/* A PMD-sized page-cache folio: one dirty flag for all its pages. */
FIXTURE_VARIANT_ADD(dirty, xfs_shared) { .kind = MEM_XFS_SHARED };

FIXTURE_SETUP(dirty)
{
	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, variant->kind, NR_PAGES);
	if (!pagemap_pfn(&self->fd) || kpageflags(0) < 0) {
		close(self->fd);
		self->fd = -1;
		mem_teardown(&self->mem);
		SETUP_SKIP(return, "no pfns in pagemap or no kpageflags: needs root");
	}

	/* The old content, written through the file where there is one. */
	self->old = malloc(self->mem.size);
	ASSERT_NE(NULL, self->old);
	memset(self->old, OLD, self->mem.size);
	if (self->mem.fd >= 0) {
		ASSERT_EQ(self->mem.size, pwrite(self->mem.fd, self->old,
						 self->mem.size, 0));
		ASSERT_EQ(0, fsync(self->mem.fd));
	} else {
		memset(self->mem.addr, OLD, self->mem.size);
	}
}

FIXTURE_TEARDOWN(dirty)
{
	if (self->fd >= 0)
		close(self->fd);
	mem_teardown(&self->mem);
	free(self->old);
}

/* Not an unpin way of the ABI: the session is left to close(). */
#define UNPIN_BY_CLOSE	GUP_UNPIN_NR

/* The device writes pages 1 and 3 (of the first four). */
static bool device_writes(size_t page)
{
	return page == 1 || page == 3;
}

static bool mem_is_shmem(enum mem_kind kind)
{
	return (mem_type(kind)->props & (MEM_P_SHMEM | MEM_P_PRIVATE)) ==
	       MEM_P_SHMEM;
}

/*
 * Whether page @i is dirty after unpinning with @how, the device having
 * written device_writes(): the rule under test. A folio has one dirty flag:
 * dirtying one page dirties every page of its folio (@head[] holds each
 * page's folio, as its first pfn; ext4 has large folios since v6.16).
 * tmpfs pages have no writeback and are dirty from the first write on; an
 * anonymous page is dirty only when marked so.
 */
static bool expect_dirty(enum mem_kind kind, unsigned int how,
			 const __u64 *head, size_t i)
{
	bool marked = false;
	size_t j;

	switch (how) {
	case GUP_UNPIN_DIRTY_LOCK:
	case GUP_UNPIN_RANGE_DIRTY:
		marked = true;
		break;
	case GUP_UNPIN_DEVICE_DIRTY:
	case UNPIN_BY_CLOSE:
		for (j = 0; j < NR_PAGES; j++)
			if (device_writes(j) && head[j] == head[i])
				marked = true;
		break;
	}
	if (mem_is_shmem(kind))
		return true;
	return marked;
}

static bool page_dirty(struct __test_metadata *_metadata, int fd,
		       const char *addr)
{
	struct gup_page_state ps;
	__s64 kflags;

	ASSERT_EQ(0, gup_state_addr(fd, addr, &ps, 1));
	ASSERT_EQ(ps.pfn, pagemap_pfn(addr));
	/* kpageflags reports PG_dirty of a large folio on its head page. */
	kflags = kpageflags(ps.pfn & ~((1ULL << ps.order) - 1));
	ASSERT_LE(0, kflags);
	/* The witness must agree with the module's folio_test_dirty(). */
	ASSERT_EQ(!!(ps.flags & GUP_PS_DIRTY), !!(kflags & (1 << KPF_DIRTY_BIT)))
		TH_LOG("module and kpageflags disagree at %p", addr);
	return ps.flags & GUP_PS_DIRTY;
}

static void assert_disk(struct __test_metadata *_metadata, struct mem *m,
			size_t page, unsigned char want)
{
	unsigned char *buf = malloc(page_size);
	size_t i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, read_disk(m->path, page * page_size, buf, page_size));
	for (i = 0; i < page_size && buf[i] == want; i++)
		;
	free(buf);
	ASSERT_EQ(page_size, i)
		TH_LOG("page %zu on disk: byte %zu is not %#x", page, i, want);
}

/*
 * One case: the fixture's gup_test file *fd (reopened when the case closes
 * it) and memory m, of kind, unpinned with how.
 */
static void run_case(struct __test_metadata *_metadata, int *fd,
		     struct mem *m, enum mem_kind kind, unsigned int how)
{
	unsigned int flags = GUP_PIN_WRITE | GUP_PIN_LONGTERM;
	struct gup_page_state ps[NR_PAGES];
	bool file = mem_has_writeback(kind);
	__u64 head[NR_PAGES];
	unsigned char *buf, *after;
	size_t i, nr = NR_PAGES;
	__u64 pinned;
	__u32 id;
	int ret;

	SETUP_SKIPPED(return);

	/* 1. The file's content is on the disk and the pages are clean. */
	for (i = 0; file && i < nr; i++) {
		ASSERT_FALSE(page_dirty(_metadata, *fd,
					m->addr + i * page_size));
		assert_disk(_metadata, m, i, OLD);
	}

	/* 2. Pin for write, long-term where the kernel allows it. */
	ret = gup_pin(*fd, m->addr, m->size, GUP_API_PUP_FAST, flags,
		      &id, &pinned);
	if (file && !kernel_expect()->longterm_write_file_ok) {
		ASSERT_EQ(-EFAULT, ret)
			TH_LOG("FOLL_LONGTERM|FOLL_WRITE of a file mapping");
		flags &= ~GUP_PIN_LONGTERM;
		ret = gup_pin(*fd, m->addr, m->size, GUP_API_PUP_FAST,
			      flags, &id, &pinned);
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(m->nr_pages, pinned);
	if (file) {
		/* The pin's write fault dirtied the pages; clean them. */
		for (i = 0; i < nr; i++)
			ASSERT_TRUE(page_dirty(_metadata, *fd,
					       m->addr + i * page_size));
		ASSERT_EQ(0, fsync(m->fd));
		for (i = 0; i < nr; i++)
			ASSERT_FALSE(page_dirty(_metadata, *fd,
						m->addr + i * page_size));
	}

	/* 3. The device writes; the pages stay clean, the disk old. */
	buf = malloc(page_size);
	ASSERT_NE(NULL, buf);
	memset(buf, NEW, page_size);
	for (i = 0; i < nr; i++)
		if (device_writes(i))
			ASSERT_EQ(0, gup_dma(*fd, id, GUP_DMA_TO_PAGES,
					     i * page_size, buf, page_size));
	free(buf);
	for (i = 0; file && i < nr; i++) {
		ASSERT_FALSE(page_dirty(_metadata, *fd,
					m->addr + i * page_size));
		assert_disk(_metadata, m, i, OLD);
	}

	/* 4. Writeback while pinned finds nothing to write. */
	if (file) {
		ASSERT_EQ(0, msync(m->addr, m->size, MS_SYNC));
		ASSERT_EQ(0, fsync(m->fd));
		for (i = 0; i < nr; i++) {
			ASSERT_FALSE(page_dirty(_metadata, *fd,
						m->addr + i * page_size));
			assert_disk(_metadata, m, i, OLD);
		}
	}

	/*
	 * An anonymous page is clean until marked: the unpin's marking is
	 * what the rows below see. (tmpfs is dirty from its first write on,
	 * so its rows check the counts and the data only.)
	 */
	for (i = 0; !file && !mem_is_shmem(kind) && i < nr; i++)
		ASSERT_FALSE(page_dirty(_metadata, *fd,
					m->addr + i * page_size))
			TH_LOG("anonymous page %zu dirty before the unpin", i);

	/* 5. The unpin decides. */
	ASSERT_EQ(0, gup_state(*fd, id, 0, ps, nr));
	for (i = 0; i < nr; i++)
		head[i] = ps[i].pfn & ~((1ULL << ps[i].order) - 1);
	if (how == UNPIN_BY_CLOSE) {
		close(*fd);
		*fd = gup_open();
		ASSERT_LE(0, *fd);
	} else {
		ASSERT_EQ(0, gup_unpin(*fd, id, how));
	}
	for (i = 0; i < nr; i++) {
		unsigned int order = ps[i].order;

		ASSERT_EQ(expect_dirty(kind, how, head, i),
			  page_dirty(_metadata, *fd, m->addr + i * page_size))
			TH_LOG("page %zu (folio order %u) after unpin way %u",
			       i, order, how);
	}
	/* User space sees what the device wrote, whatever the unpin. */
	for (i = 0; i < nr; i++)
		ASSERT_EQ(device_writes(i) ? NEW : OLD,
			  (unsigned char)m->addr[i * page_size + 7]);
	if (!file)
		return;

	/*
	 * Written back and evicted (mapped pages are not evicted): the disk,
	 * and so every later reader, has the device's data only where the
	 * page was dirtied.
	 */
	ASSERT_EQ(0, fsync(m->fd));
	ASSERT_EQ(0, munmap(m->map, m->map_size));
	m->map = NULL;
	ASSERT_EQ(0, posix_fadvise(m->fd, 0, m->size, POSIX_FADV_DONTNEED));
	after = malloc(m->size);
	ASSERT_NE(NULL, after);
	ASSERT_EQ(m->size, pread(m->fd, after, m->size, 0));
	for (i = 0; i < nr; i++) {
		unsigned char want = device_writes(i) &&
				     expect_dirty(kind, how, head, i) ?
				     NEW : OLD;

		assert_disk(_metadata, m, i, want);
		ASSERT_EQ(want, after[i * page_size + 7])
			TH_LOG("page %zu read back after eviction", i);
	}
	free(after);
}

/* unpin_user_pages_dirty_lock(, true): every page dirty, nothing lost. */
TEST_F(dirty, unpin_dirty_lock)
{
	run_case(_metadata, &self->fd, &self->mem, variant->kind,
		 GUP_UNPIN_DIRTY_LOCK);
}

/* unpin_user_page_range_dirty_lock() over contiguous runs: the same. */
TEST_F(dirty, unpin_range_dirty)
{
	run_case(_metadata, &self->fd, &self->mem, variant->kind,
		 GUP_UNPIN_RANGE_DIRTY);
}

/* Dirty only what the device wrote: the other pages stay clean. */
TEST_F(dirty, unpin_device_dirty)
{
	run_case(_metadata, &self->fd, &self->mem, variant->kind,
		 GUP_UNPIN_DEVICE_DIRTY);
}

/*
 * Closing the file with the session held marks what the device wrote, as
 * the per-page way does: nothing it wrote is lost.
 */
TEST_F(dirty, close_dirties_device_writes)
{
	run_case(_metadata, &self->fd, &self->mem, variant->kind,
		 UNPIN_BY_CLOSE);
}

/* Negative control: a plain unpin loses the device's data on a disk. */
TEST_F(dirty, unpin_plain_loses)
{
	run_case(_metadata, &self->fd, &self->mem, variant->kind,
		 GUP_UNPIN_PLAIN);
}

/* unpin_user_pages_dirty_lock(, false) is a plain unpin. */
TEST_F(dirty, unpin_clean_lock_loses)
{
	run_case(_metadata, &self->fd, &self->mem, variant->kind,
		 GUP_UNPIN_CLEAN_LOCK);
}

TEST_HARNESS_MAIN
