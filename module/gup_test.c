// SPDX-License-Identifier: GPL-2.0
/*
 * gup_test: drive get_user_pages() and pin_user_pages() from user space.
 *
 * Serves upstream's gup_test ioctl ABI unchanged, and adds pin sessions that
 * outlive the ioctl, a per-page state query, a simulated device that reads
 * and writes pinned pages, and a nanosecond benchmark. See gup_test_abi.h.
 *
 * Nothing user space sends may WARN or leak: every input is checked before it
 * reaches a gup function, and all a file holds is released when it is closed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "compat.h"
#include "gup_test_abi.h"

/*
 * Unset, the name is GUP_TEST_NAME, or GUP_TEST_NAME_BESIDE where a kernel
 * built with CONFIG_GUP_TEST=y holds that name itself. A name given is
 * taken as given or not at all. Either way the parameter then reads back
 * the name in use, which is how user space finds the file.
 */
static char *name;
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "Name of the debugfs file (default: " GUP_TEST_NAME
		 ", or " GUP_TEST_NAME_BESIDE " beside a built-in gup_test)");

/*
 * What one open file, and the module as a whole, may hold at once, over
 * every path: sessions, the long-term test, upstream's benchmarks for the
 * length of a call and GUP_BENCH for a batch. The module-wide bound keeps
 * any page below the refcount overflow that try_grab_folio() WARNs on:
 * 2^20 pins of one small folio add 2^30 to its refcount.
 */
#define GUP_TEST_PAGES_MAX	BIT(20)

static unsigned long max_pages_per_file = GUP_TEST_PAGES_MAX;
static unsigned long max_pages_total = GUP_TEST_PAGES_MAX;
static atomic_long_t pages_held_total;

static int pages_param_set(const char *val, const struct kernel_param *kp)
{
	unsigned long n;
	int ret;

	ret = kstrtoul(val, 0, &n);
	if (ret)
		return ret;
	if (!n || n > GUP_TEST_PAGES_MAX)
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, n);
	return 0;
}

static const struct kernel_param_ops pages_param_ops = {
	.set = pages_param_set,
	.get = param_get_ulong,
};

module_param_cb(max_pages_per_file, &pages_param_ops, &max_pages_per_file,
		0644);
MODULE_PARM_DESC(max_pages_per_file,
		 "Pages one open file may hold at once (1..1048576)");
module_param_cb(max_pages_total, &pages_param_ops, &max_pages_total, 0644);
MODULE_PARM_DESC(max_pages_total,
		 "Pages all open files may hold at once (1..1048576)");

static unsigned int bench_delay_ns;
module_param(bench_delay_ns, uint, 0644);
MODULE_PARM_DESC(bench_delay_ns,
		 "Delay per page inside GUP_BENCH's timed pin region (ns, <= 10000)");

/* A full batch busy-waits 10 ms at most. */
#define BENCH_DELAY_MAX_NS	10000U

struct pin_session {
	struct page **pages;
	unsigned long nr_pages;
	unsigned long *written;		/* pages GUP_DMA wrote into */
	u32 api;
	u32 flags;
};

struct gup_file {
	atomic_long_t pages_held;	/* over every path: pages_reserve() */
	struct mutex lock;		/* serialises all below */
	struct xarray sessions;		/* id -> struct pin_session */
	u32 next_id;			/* for xa_alloc_cyclic() */
	struct page **longterm_pages;	/* PIN_LONGTERM_TEST_* */
	unsigned long longterm_nr_pages;
	struct page *mmap_page;		/* set once, by mmap_page_get() */
};

static struct dentry *gup_test_dentry;

/*
 * Takes @nr pages of the file's budget and of the module's, or neither
 * (-E2BIG). Counted before the gup call, so that concurrent callers cannot
 * together hold more than the bounds.
 */
static int pages_reserve(struct gup_file *gf, unsigned long nr)
{
	unsigned long file_max = READ_ONCE(max_pages_per_file);
	unsigned long total_max = READ_ONCE(max_pages_total);

	if (nr > file_max || nr > total_max)
		return -E2BIG;
	if (atomic_long_add_return(nr, &gf->pages_held) > file_max)
		goto undo_file;
	if (atomic_long_add_return(nr, &pages_held_total) > total_max)
		goto undo_total;
	return 0;

undo_total:
	atomic_long_sub(nr, &pages_held_total);
undo_file:
	atomic_long_sub(nr, &gf->pages_held);
	return -E2BIG;
}

static void pages_unreserve(struct gup_file *gf, unsigned long nr)
{
	atomic_long_sub(nr, &pages_held_total);
	atomic_long_sub(nr, &gf->pages_held);
}

static bool api_is_pin(u32 api)
{
	return api == GUP_API_PUP || api == GUP_API_PUP_FAST;
}

static bool api_needs_mmap_lock(u32 api)
{
	return api == GUP_API_GUP || api == GUP_API_PUP;
}

/* Rejects what the gup functions would WARN about. */
static int check_api_flags(u32 api, u32 flags)
{
	if (api >= GUP_API_NR || (flags & ~GUP_PIN_FLAGS))
		return -EINVAL;
	if ((flags & GUP_PIN_LONGTERM) && !api_is_pin(api))
		return -EINVAL;
	return 0;
}

static unsigned int foll_flags(u32 flags)
{
	unsigned int foll = 0;

	if (flags & GUP_PIN_WRITE)
		foll |= FOLL_WRITE;
	if (flags & GUP_PIN_LONGTERM)
		foll |= FOLL_LONGTERM;
	return foll;
}

static int check_user_range(u64 addr, u64 size, unsigned long *nr_pages)
{
	u64 end;

	if (!size || !IS_ALIGNED(addr, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;
	if (check_add_overflow(addr, size, &end))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(addr), size))
		return -EFAULT;
	*nr_pages = size >> PAGE_SHIFT;
	return 0;
}

/* One gup call; the caller holds mmap_lock for the slow APIs. */
static long gup_call(u32 api, unsigned long addr, unsigned long nr,
		     unsigned int foll, struct page **pages)
{
	nr = min_t(unsigned long, nr, INT_MAX);

	switch (api) {
	case GUP_API_GUP:
		return compat_get_user_pages(addr, nr, foll, pages);
	case GUP_API_GUP_FAST:
		return get_user_pages_fast(addr, nr, foll, pages);
	case GUP_API_PUP:
		return compat_pin_user_pages(addr, nr, foll, pages);
	case GUP_API_PUP_FAST:
		return pin_user_pages_fast(addr, nr, foll, pages);
	}
	return -EINVAL;
}

/*
 * Takes references on nr pages from addr. Returns how many were taken, or,
 * when none was, the error of the gup call.
 */
static long gup_range(u32 api, unsigned long addr, unsigned long nr,
		      unsigned int foll, struct page **pages)
{
	bool lock = api_needs_mmap_lock(api);
	unsigned long done = 0;
	long ret = 0;

	if (lock && mmap_read_lock_killable(current->mm))
		return -EINTR;
	while (done < nr) {
		ret = gup_call(api, addr + done * PAGE_SIZE, nr - done, foll,
			       pages + done);
		if (ret <= 0)
			break;
		done += ret;
	}
	if (lock)
		mmap_read_unlock(current->mm);
	if (done)
		return done;
	return ret ? ret : -EFAULT;
}

static void put_pages(struct page **pages, unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++)
		put_page(pages[i]);
}

/* The plain release that matches how the pages were taken. */
static void release_pages_of(u32 api, struct page **pages, unsigned long nr)
{
	if (api_is_pin(api))
		unpin_user_pages(pages, nr);
	else
		put_pages(pages, nr);
}

/*
 * unpin_user_page_range_dirty_lock() needs physically contiguous pages.
 * Compared by pfn: nth_page() is gone in 7.x, and pfns mean the same on
 * every memory model.
 */
static void unpin_contiguous_runs_dirty(struct page **pages, unsigned long nr)
{
	unsigned long i, j;

	for (i = 0; i < nr; i = j) {
		for (j = i + 1; j < nr; j++)
			if (page_to_pfn(pages[j]) != page_to_pfn(pages[i]) + j - i)
				break;
		unpin_user_page_range_dirty_lock(pages[i], j - i, true);
	}
}

static void session_free(struct pin_session *s)
{
	kvfree(s->written);
	kvfree(s->pages);
	kfree(s);
}

static void session_release(struct pin_session *s, u32 how)
{
	unsigned long i;

	switch (how) {
	case GUP_UNPIN_PUT:
		put_pages(s->pages, s->nr_pages);
		break;
	case GUP_UNPIN_PLAIN:
		unpin_user_pages(s->pages, s->nr_pages);
		break;
	case GUP_UNPIN_DIRTY_LOCK:
		unpin_user_pages_dirty_lock(s->pages, s->nr_pages, true);
		break;
	case GUP_UNPIN_CLEAN_LOCK:
		unpin_user_pages_dirty_lock(s->pages, s->nr_pages, false);
		break;
	case GUP_UNPIN_RANGE_DIRTY:
		unpin_contiguous_runs_dirty(s->pages, s->nr_pages);
		break;
	case GUP_UNPIN_DEVICE_DIRTY:
		for (i = 0; i < s->nr_pages; i++)
			unpin_user_pages_dirty_lock(&s->pages[i], 1,
						    test_bit(i, s->written));
		break;
	case GUP_UNPIN_PUT_DEVICE_DIRTY:
		for (i = 0; i < s->nr_pages; i++)
			if (test_bit(i, s->written))
				set_page_dirty_lock(s->pages[i]);
		put_pages(s->pages, s->nr_pages);
		break;
	}
}

/* Which GUP_UNPIN_* ways may release session s. */
static bool unpin_way_valid(struct pin_session *s, u32 how)
{
	if (how >= GUP_UNPIN_NR)
		return false;
	if (!api_is_pin(s->api))
		return how == GUP_UNPIN_PUT ||
		       (how == GUP_UNPIN_PUT_DEVICE_DIRTY &&
			(s->flags & GUP_PIN_WRITE));
	if (how == GUP_UNPIN_PUT || how == GUP_UNPIN_PUT_DEVICE_DIRTY)
		return false;
	/* Only pages pinned for write may be marked dirty. */
	if (how != GUP_UNPIN_PLAIN && how != GUP_UNPIN_CLEAN_LOCK)
		return s->flags & GUP_PIN_WRITE;
	return true;
}

/*
 * A prefix before a hole is all that gets pinned: keep an array of that
 * size, not of the request's. If the smaller one cannot be had, the larger
 * one serves.
 */
static struct page **pages_shrink(struct page **pages, unsigned long nr)
{
	struct page **fit;

	fit = kvmalloc_array(nr, sizeof(*fit), GFP_KERNEL_ACCOUNT);
	if (!fit)
		return pages;
	memcpy(fit, pages, nr * sizeof(*fit));
	kvfree(pages);
	return fit;
}

static int pin_start(struct gup_file *gf, void __user *argp)
{
	struct gup_pin_session args;
	struct pin_session *s = NULL;
	struct page **pages = NULL;
	unsigned long nr, reserved;
	long ret;
	u32 id;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.reserved)
		return -EINVAL;
	ret = check_api_flags(args.api, args.flags);
	if (ret)
		return ret;
	ret = check_user_range(args.addr, args.size, &nr);
	if (ret)
		return ret;
	/* The request counts, not what it turns out to pin. */
	ret = pages_reserve(gf, nr);
	if (ret)
		return ret;
	reserved = nr;

	s = kzalloc_obj(*s, GFP_KERNEL_ACCOUNT);
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!s || !pages) {
		ret = -ENOMEM;
		goto free;
	}
	s->api = args.api;
	s->flags = args.flags;
	ret = gup_range(s->api, args.addr, nr, foll_flags(s->flags), pages);
	if (ret < 0)
		goto free;
	s->nr_pages = ret;
	if (s->nr_pages < nr) {
		pages_unreserve(gf, nr - s->nr_pages);
		reserved = s->nr_pages;
		pages = pages_shrink(pages, s->nr_pages);
	}
	s->pages = pages;
	s->written = kvcalloc(BITS_TO_LONGS(s->nr_pages), sizeof(long),
			      GFP_KERNEL_ACCOUNT);
	if (!s->written) {
		ret = -ENOMEM;
		goto release;
	}

	/* Cyclic: a stale id must not name another thread's new session. */
	ret = xa_alloc_cyclic(&gf->sessions, &id, s, xa_limit_31b,
			      &gf->next_id, GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto release;

	args.id = id;
	args.nr_pages = s->nr_pages;
	if (copy_to_user(argp, &args, sizeof(args))) {
		/* Nobody could name this session: do not keep it. */
		xa_erase(&gf->sessions, id);
		ret = -EFAULT;
		goto release;
	}
	return 0;

release:
	release_pages_of(s->api, s->pages, s->nr_pages);
free:
	if (s)
		kvfree(s->written);
	kvfree(pages);
	kfree(s);
	pages_unreserve(gf, reserved);
	return ret;
}

static int pin_stop(struct gup_file *gf, void __user *argp)
{
	struct gup_unpin_session args;
	struct pin_session *s;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	s = xa_load(&gf->sessions, args.id);
	if (!s || !unpin_way_valid(s, args.how))
		return -EINVAL;

	xa_erase(&gf->sessions, args.id);
	session_release(s, args.how);
	pages_unreserve(gf, s->nr_pages);
	session_free(s);
	return 0;
}

/* @extra_refs: references of ours that the caller should not see. */
static void page_state_read(struct page *page, int extra_refs,
			    struct gup_page_state *ps)
{
	struct folio *folio = page_folio(page);
	u32 flags = 0;

	memset(ps, 0, sizeof(*ps));
	ps->pfn = page_to_pfn(page);
	ps->index = folio->index;
	ps->refcount = folio_ref_count(folio) - extra_refs;
	ps->mapcount = compat_mapcount(page);
	ps->pincount = compat_folio_pincount(folio);
	ps->order = folio_order(folio);
	ps->nid = folio_nid(folio);
	ps->zone = page_zonenum(page);

	if (folio_maybe_dma_pinned(folio))
		flags |= GUP_PS_MAYBE_DMA_PINNED;
	if (folio_test_dirty(folio))
		flags |= GUP_PS_DIRTY;
	if (folio_test_anon(folio))
		flags |= GUP_PS_ANON;
	if (compat_page_anon_exclusive(page))
		flags |= GUP_PS_ANON_EXCLUSIVE;
	if (folio_test_hugetlb(folio))
		flags |= GUP_PS_HUGETLB;
	if (folio_test_large(folio))
		flags |= GUP_PS_LARGE;
	if (ps->zone == ZONE_MOVABLE)
		flags |= GUP_PS_MOVABLE;
	if (compat_is_zero_page(page))
		flags |= GUP_PS_ZERO_PAGE;
	if (folio_test_lru(folio))
		flags |= GUP_PS_LRU;
	if (folio_test_writeback(folio))
		flags |= GUP_PS_WRITEBACK;
	if (folio_test_uptodate(folio))
		flags |= GUP_PS_UPTODATE;
	if (folio_test_swapbacked(folio))
		flags |= GUP_PS_SWAPBACKED;
	if (folio_is_longterm_pinnable(folio))
		flags |= GUP_PS_LONGTERM_OK;
	if (folio_test_private(folio))
		flags |= GUP_PS_PRIVATE;
	if (folio_mapping(folio))
		flags |= GUP_PS_MAPPING;
	if (is_zone_device_page(page))
		flags |= GUP_PS_ZONE_DEVICE;
	ps->flags = flags;
}

static int query_session(struct gup_file *gf, struct gup_page_query *q)
{
	struct gup_page_state __user *out = u64_to_user_ptr(q->states);
	struct gup_page_state ps;
	struct pin_session *s;
	u64 i;

	s = xa_load(&gf->sessions, q->id);
	if (!s || q->start >= s->nr_pages)
		return -EINVAL;
	q->count = min_t(u64, q->count, s->nr_pages - q->start);
	for (i = 0; i < q->count; i++) {
		page_state_read(s->pages[q->start + i], 0, &ps);
		if (copy_to_user(&out[i], &ps, sizeof(ps)))
			return -EFAULT;
	}
	return 0;
}

static int query_addr(struct gup_page_query *q)
{
	struct gup_page_state __user *out = u64_to_user_ptr(q->states);
	struct gup_page_state ps;
	unsigned long nr;
	struct page *page;
	u64 i;
	int ret;

	ret = check_user_range(q->start, q->count << PAGE_SHIFT, &nr);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) {
		unsigned long addr = q->start + i * PAGE_SIZE;

		/*
		 * The fast walk first: it takes a reference and nothing else.
		 * The slow path faults the page in, and may mark it accessed,
		 * which parks it in a per-cpu batch holding a reference of
		 * its own: the refcount read here would be one too high.
		 */
		ret = get_user_page_fast_only(addr, 0, &page) ? 1 :
		      get_user_pages_fast(addr, 1, 0, &page);
		if (ret != 1)
			break;
		page_state_read(page, 1, &ps);
		put_page(page);
		if (copy_to_user(&out[i], &ps, sizeof(ps)))
			return -EFAULT;
	}
	if (!i)
		return ret < 0 ? ret : -EFAULT;
	q->count = i;
	return 0;
}

static int pin_query(struct gup_file *gf, void __user *argp)
{
	struct gup_page_query q;
	int ret;

	if (copy_from_user(&q, argp, sizeof(q)))
		return -EFAULT;
	if (q.reserved || !q.count)
		return -EINVAL;
	if (q.count > GUP_QUERY_MAX)
		return -E2BIG;
	ret = q.id ? query_session(gf, &q) : query_addr(&q);
	if (ret)
		return ret;
	return copy_to_user(argp, &q, sizeof(q)) ? -EFAULT : 0;
}

static int dma(struct gup_file *gf, void __user *argp)
{
	struct pin_session *s;
	struct gup_dma args;
	u64 end, off;
	char __user *buf;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	s = xa_load(&gf->sessions, args.id);
	if (!s || args.dir > GUP_DMA_FROM_PAGES || !args.len)
		return -EINVAL;
	if (check_add_overflow(args.offset, args.len, &end) ||
	    end > (u64)s->nr_pages << PAGE_SHIFT)
		return -EINVAL;
	if (args.dir == GUP_DMA_TO_PAGES && !(s->flags & GUP_PIN_WRITE))
		return -EPERM;

	buf = u64_to_user_ptr(args.buf);
	for (off = args.offset; off < end; ) {
		unsigned long idx = off >> PAGE_SHIFT;
		size_t poff = offset_in_page(off);
		size_t len = min_t(u64, end - off, PAGE_SIZE - poff);
		struct page *page = s->pages[idx];
		unsigned long left;
		void *kaddr;

		kaddr = kmap_local_page(page);
		if (args.dir == GUP_DMA_TO_PAGES) {
			left = copy_from_user(kaddr + poff, buf, len);
			if (left < len) {
				flush_dcache_page(page);
				set_bit(idx, s->written);
			}
		} else {
			left = copy_to_user(buf, kaddr + poff, len);
		}
		kunmap_local(kaddr);
		if (left)
			return -EFAULT;
		buf += len;
		off += len;
	}
	return 0;
}

/*
 * Where GUP_BENCH's timed regions begin and end, for a counter of the
 * kernel's instructions that watches function entries
 * (tools/gup_benchmark/insn): calls kept out of line, each storing a value
 * of its own, so that the compiler cannot fold the four into one. The pin
 * is counted from bench_mark_pin() to bench_mark_unpin(), the release
 * from bench_mark_release() to bench_mark_end(): inside the clock reads,
 * whose instructions depend on the clocksource of the moment (tsc-early,
 * then tsc, a second into a boot). The ns regions hold the marks' few
 * instructions instead.
 */
static int bench_marked;

static noinline void bench_mark_pin(void)
{
	WRITE_ONCE(bench_marked, 1);
}

static noinline void bench_mark_unpin(void)
{
	WRITE_ONCE(bench_marked, 2);
}

static noinline void bench_mark_release(void)
{
	WRITE_ONCE(bench_marked, 3);
}

static noinline void bench_mark_end(void)
{
	WRITE_ONCE(bench_marked, 4);
}

/*
 * One batch: at most GUP_BENCH_BATCH pages, pinned and released, with
 * mmap_lock held (for the slow APIs) around the gup calls only. Returns the
 * last gup call's result; *got says how many pages were taken.
 */
static long bench_batch(struct gup_bench *b, unsigned long addr,
			unsigned long batch, unsigned int foll,
			struct page **pages, unsigned long *got)
{
	unsigned int delay = min(READ_ONCE(bench_delay_ns), BENCH_DELAY_MAX_NS);
	bool lock = api_needs_mmap_lock(b->api);
	long ret = 0;
	u64 t0, t1, t2, t3;

	*got = 0;
	if (lock && mmap_read_lock_killable(current->mm))
		return -EINTR;
	t0 = ktime_get_ns();
	bench_mark_pin();
	while (*got < batch) {
		ret = gup_call(b->api, addr + *got * PAGE_SIZE,
			       min_t(unsigned long, batch - *got,
				     b->nr_pages_per_call),
			       foll, pages + *got);
		b->nr_calls++;
		if (ret <= 0)
			break;
		*got += ret;
	}
	/*
	 * One delay per batch: ndelay() has a fixed cost of its own (seen:
	 * ~400 ns under TCG), which per call would not scale with the pages.
	 */
	if (delay)
		ndelay(delay * *got);
	bench_mark_unpin();
	t1 = ktime_get_ns();
	/* In neither timed region: the lock is not the API's. */
	if (lock)
		mmap_read_unlock(current->mm);
	t2 = ktime_get_ns();
	bench_mark_release();
	release_pages_of(b->api, pages, *got);
	bench_mark_end();
	t3 = ktime_get_ns();

	b->pin_ns += t1 - t0;
	b->unpin_ns += t3 - t2;
	return ret;
}

/*
 * Streams the range through batches, each counted against the bounds while
 * it is held; mmap_lock is dropped and the CPU offered between batches, and
 * a fatal signal ends the run.
 */
static int bench(struct gup_file *gf, void __user *argp)
{
	unsigned long nr, done = 0;
	struct page **pages;
	struct gup_bench b;
	unsigned int foll;
	long ret = 0;
	int err;

	if (copy_from_user(&b, argp, sizeof(b)))
		return -EFAULT;
	if (b.reserved || !b.nr_pages_per_call ||
	    b.nr_pages_per_call > GUP_BENCH_BATCH)
		return -EINVAL;
	err = check_api_flags(b.api, b.flags);
	if (err)
		return err;
	err = check_user_range(b.addr, b.size, &nr);
	if (err)
		return err;
	if (nr > GUP_TEST_PAGES_MAX)
		return -E2BIG;

	pages = kmalloc_array(GUP_BENCH_BATCH, sizeof(*pages),
			      GFP_KERNEL_ACCOUNT);
	if (!pages)
		return -ENOMEM;
	foll = foll_flags(b.flags);
	b.pin_ns = 0;
	b.unpin_ns = 0;
	b.nr_calls = 0;
	while (done < nr) {
		unsigned long batch = min_t(unsigned long, nr - done,
					    GUP_BENCH_BATCH);
		unsigned long got;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		err = pages_reserve(gf, batch);
		if (err) {
			ret = err;
			break;
		}
		ret = bench_batch(&b, b.addr + done * PAGE_SIZE, batch, foll,
				  pages, &got);
		pages_unreserve(gf, batch);
		done += got;
		if (ret <= 0)
			break;
		cond_resched();
	}
	kfree(pages);
	if (!done)
		return ret < 0 ? ret : -EFAULT;
	b.nr_pages = done;
	return copy_to_user(argp, &b, sizeof(b)) ? -EFAULT : 0;
}

/* Upstream's ABI ('g' 1..9). */

/*
 * The fast APIs take no FOLL_TOUCH: 6.1 WARNs on it there. The slow APIs
 * take it where the kernel still lets callers ask (before v6.2).
 */
static int upstream_foll_flags(u32 api, u32 gup_flags, unsigned int *foll)
{
	if (gup_flags & ~(GUP_TEST_FOLL_WRITE | GUP_TEST_FOLL_TOUCH))
		return -EINVAL;
	*foll = 0;
	if (gup_flags & GUP_TEST_FOLL_WRITE)
		*foll |= FOLL_WRITE;
	if ((gup_flags & GUP_TEST_FOLL_TOUCH) && api_needs_mmap_lock(api))
		*foll |= COMPAT_FOLL_TOUCH;
	return 0;
}

/* Maps an upstream command to the API it uses and the way to release. */
static u32 upstream_api(unsigned int cmd, u32 test_flags)
{
	switch (cmd) {
	case GUP_FAST_BENCHMARK:
		return GUP_API_GUP_FAST;
	case PIN_FAST_BENCHMARK:
		return GUP_API_PUP_FAST;
	case GUP_BASIC_TEST:
		return GUP_API_GUP;
	case DUMP_USER_PAGES_TEST:
		if (test_flags & GUP_TEST_FLAG_DUMP_PAGES_USE_PIN)
			return GUP_API_PUP;
		return GUP_API_GUP;
	default: /* PIN_BASIC_TEST, PIN_LONGTERM_BENCHMARK */
		return GUP_API_PUP;
	}
}

/*
 * Upstream WARNs when a pinned page does not look pinned; a failed ioctl
 * tells the test without tainting the kernel. The zero page is never pinned.
 */
static int verify_dma_pinned(unsigned int cmd, struct page **pages,
			     unsigned long nr)
{
	unsigned long i;

	for (i = 0; i < nr; i++) {
		struct folio *folio = page_folio(pages[i]);

		if (compat_is_zero_page(pages[i]))
			continue;
		if (!folio_maybe_dma_pinned(folio)) {
			pr_err("pages[%lu] (pfn %#lx) is not dma-pinned\n",
			       i, page_to_pfn(pages[i]));
			return -EIO;
		}
		if (cmd == PIN_LONGTERM_BENCHMARK &&
		    !folio_is_longterm_pinnable(folio)) {
			pr_err("pages[%lu] (pfn %#lx) is not longterm-pinnable but pinned\n",
			       i, page_to_pfn(pages[i]));
			return -EIO;
		}
	}
	return 0;
}

static void dump_which_pages(struct gup_test *gup, struct page **pages,
			     unsigned long nr)
{
	unsigned int i;

	for (i = 0; i < GUP_TEST_MAX_PAGES_TO_DUMP; i++) {
		u32 n = gup->which_pages[i];

		if (!n)
			continue;
		if (n > nr) {
			pr_info("which_pages[%u] = %u is out of range: zeroed\n",
				i, n);
			gup->which_pages[i] = 0;
			continue;
		}
		pr_info("page #%u, from user address %#llx\n", n - 1,
			gup->addr);
		dump_page(pages[n - 1], "gup_test: dump_pages() test");
	}
}

static int upstream_gup_test(struct gup_file *gf, unsigned int cmd,
			     struct gup_test *gup)
{
	u32 api = upstream_api(cmd, gup->test_flags);
	unsigned long i = 0, nr_pages, addr, next, end;
	bool lock = api_needs_mmap_lock(api);
	struct page **pages;
	unsigned int foll;
	long nr = 0;
	ktime_t t0;
	int ret;

	if (gup->addr > ULONG_MAX || gup->size > ULONG_MAX)
		return -EINVAL;
	if (check_add_overflow((unsigned long)gup->addr,
			       (unsigned long)gup->size, &end))
		return -EINVAL;
	/* Zero pages per call would make no progress. */
	if (!gup->nr_pages_per_call)
		return -EINVAL;
	ret = upstream_foll_flags(api, gup->gup_flags, &foll);
	if (ret)
		return ret;
	if (cmd == PIN_LONGTERM_BENCHMARK)
		foll |= FOLL_LONGTERM;
	nr_pages = gup->size / PAGE_SIZE;
	/* Held for the length of the call, counted like any other. */
	ret = pages_reserve(gf, nr_pages);
	if (ret)
		return ret;

	pages = kvcalloc(nr_pages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages) {
		ret = -ENOMEM;
		goto unreserve;
	}
	if (lock && mmap_read_lock_killable(current->mm)) {
		ret = -EINTR;
		goto free;
	}

	/* Upstream semantics: stop at the first call that falls short. */
	t0 = ktime_get();
	for (addr = gup->addr; addr < end && i < nr_pages; addr = next) {
		nr = min_t(unsigned long, gup->nr_pages_per_call,
			   nr_pages - i);
		next = addr + nr * PAGE_SIZE;
		nr = gup_call(api, addr, nr, foll, pages + i);
		if (nr <= 0)
			break;
		i += nr;
		if (nr != gup->nr_pages_per_call)
			break;
	}
	gup->get_delta_usec = ktime_us_delta(ktime_get(), t0);
	gup->size = (u64)i * PAGE_SIZE;

	ret = api_is_pin(api) ? verify_dma_pinned(cmd, pages, i) : 0;
	if (cmd == DUMP_USER_PAGES_TEST)
		dump_which_pages(gup, pages, i);

	t0 = ktime_get();
	release_pages_of(api, pages, i);
	gup->put_delta_usec = ktime_us_delta(ktime_get(), t0);

	if (lock)
		mmap_read_unlock(current->mm);
free:
	kvfree(pages);
unreserve:
	pages_unreserve(gf, nr_pages);
	return ret;
}

static void longterm_stop(struct gup_file *gf)
{
	if (!gf->longterm_pages)
		return;
	unpin_user_pages(gf->longterm_pages, gf->longterm_nr_pages);
	pages_unreserve(gf, gf->longterm_nr_pages);
	kvfree(gf->longterm_pages);
	gf->longterm_pages = NULL;
	gf->longterm_nr_pages = 0;
}

static int longterm_start(struct gup_file *gf, void __user *argp)
{
	struct pin_longterm_test args;
	struct page **pages;
	unsigned long nr;
	u32 api, flags;
	long ret;

	if (gf->longterm_pages)
		return -EINVAL;
	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~(PIN_LONGTERM_TEST_FLAG_USE_WRITE |
			   PIN_LONGTERM_TEST_FLAG_USE_FAST))
		return -EINVAL;
	ret = check_user_range(args.addr, args.size, &nr);
	if (ret)
		return ret;
	ret = pages_reserve(gf, nr);
	if (ret)
		return ret;

	api = args.flags & PIN_LONGTERM_TEST_FLAG_USE_FAST ?
	      GUP_API_PUP_FAST : GUP_API_PUP;
	flags = GUP_PIN_LONGTERM;
	if (args.flags & PIN_LONGTERM_TEST_FLAG_USE_WRITE)
		flags |= GUP_PIN_WRITE;

	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages) {
		ret = -ENOMEM;
		goto unreserve;
	}
	ret = gup_range(api, args.addr, nr, foll_flags(flags), pages);
	if (ret >= 0 && ret < nr) {
		/* Upstream pins all or nothing. */
		unpin_user_pages(pages, ret);
		ret = -EFAULT;
	}
	if (ret < 0) {
		kvfree(pages);
		goto unreserve;
	}
	gf->longterm_pages = pages;
	gf->longterm_nr_pages = nr;
	return 0;

unreserve:
	pages_unreserve(gf, nr);
	return ret;
}

static int longterm_read(struct gup_file *gf, void __user *argp)
{
	char __user *buf;
	unsigned long i;
	u64 user_addr;

	if (!gf->longterm_pages)
		return -EINVAL;
	if (copy_from_user(&user_addr, argp, sizeof(user_addr)))
		return -EFAULT;
	buf = u64_to_user_ptr(user_addr);
	for (i = 0; i < gf->longterm_nr_pages; i++) {
		void *kaddr = kmap_local_page(gf->longterm_pages[i]);
		unsigned long left;

		left = copy_to_user(buf + i * PAGE_SIZE, kaddr, PAGE_SIZE);
		kunmap_local(kaddr);
		if (left)
			return -EFAULT;
	}
	return 0;
}

static long gup_test_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct gup_file *gf = file->private_data;
	void __user *argp = (void __user *)arg;
	struct gup_test gup;
	long ret;

	switch (cmd) {
	case GUP_FAST_BENCHMARK:
	case PIN_FAST_BENCHMARK:
	case PIN_LONGTERM_BENCHMARK:
	case GUP_BASIC_TEST:
	case PIN_BASIC_TEST:
	case DUMP_USER_PAGES_TEST:
		if (copy_from_user(&gup, argp, sizeof(gup)))
			return -EFAULT;
		ret = upstream_gup_test(gf, cmd, &gup);
		if (ret)
			return ret;
		return copy_to_user(argp, &gup, sizeof(gup)) ? -EFAULT : 0;
	case GUP_BENCH:
		return bench(gf, argp);
	}

	if (mutex_lock_killable(&gf->lock))
		return -EINTR;
	switch (cmd) {
	case PIN_LONGTERM_TEST_START:
		ret = longterm_start(gf, argp);
		break;
	case PIN_LONGTERM_TEST_STOP:
		longterm_stop(gf);
		ret = 0;
		break;
	case PIN_LONGTERM_TEST_READ:
		ret = longterm_read(gf, argp);
		break;
	case GUP_PIN_START:
		ret = pin_start(gf, argp);
		break;
	case GUP_PIN_STOP:
		ret = pin_stop(gf, argp);
		break;
	case GUP_PIN_QUERY:
		ret = pin_query(gf, argp);
		break;
	case GUP_DMA:
		ret = dma(gf, argp);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	mutex_unlock(&gf->lock);
	return ret;
}

/*
 * The file's page for mmap(), allocated at the first mmap(). Not under
 * gf->lock: mmap() holds mmap_lock, which the ioctls take inside gf->lock.
 */
static struct page *mmap_page_get(struct gup_file *gf)
{
	struct page *page = READ_ONCE(gf->mmap_page);
	struct page *old;

	if (page)
		return page;
	/* Zeroed: it is user space's to read. */
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return NULL;
	old = cmpxchg(&gf->mmap_page, NULL, page);
	if (old) {
		__free_page(page);
		return old;
	}
	return page;
}

/*
 * Maps the file's page as a driver maps device memory: by pfn, into a
 * VM_IO | VM_PFNMAP mapping, whose special ptes gup must not follow to a
 * struct page. A private mapping would copy the page on write into an
 * anonymous one, so only shared mappings of exactly the page are made.
 * Each mapping holds the file, so the page outlives all of them.
 */
static int gup_test_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct gup_file *gf = file->private_data;
	struct page *page;

	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE ||
	    !(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	page = mmap_page_get(gf);
	if (!page)
		return -ENOMEM;
	return remap_pfn_range(vma, vma->vm_start, page_to_pfn(page),
			       PAGE_SIZE, vma->vm_page_prot);
}

static int gup_test_open(struct inode *inode, struct file *file)
{
	struct gup_file *gf;

	gf = kzalloc_obj(*gf, GFP_KERNEL_ACCOUNT);
	if (!gf)
		return -ENOMEM;
	mutex_init(&gf->lock);
	xa_init_flags(&gf->sessions, XA_FLAGS_ALLOC1);
	file->private_data = gf;
	return nonseekable_open(inode, file);
}

/*
 * How closing the file releases a session nobody stopped: what the device
 * wrote into a write pin is marked dirty, as GUP_UNPIN_DEVICE_DIRTY does,
 * so that it is not lost to writeback.
 */
static u32 close_unpin_way(struct pin_session *s)
{
	if (!api_is_pin(s->api))
		return GUP_UNPIN_PUT;
	if (s->flags & GUP_PIN_WRITE)
		return GUP_UNPIN_DEVICE_DIRTY;
	return GUP_UNPIN_PLAIN;
}

/* A test that died leaves nothing pinned behind. */
static int gup_test_release(struct inode *inode, struct file *file)
{
	struct gup_file *gf = file->private_data;
	struct pin_session *s;
	unsigned long id;

	xa_for_each(&gf->sessions, id, s) {
		session_release(s, close_unpin_way(s));
		pages_unreserve(gf, s->nr_pages);
		session_free(s);
	}
	xa_destroy(&gf->sessions);
	longterm_stop(gf);
	if (gf->mmap_page)
		__free_page(gf->mmap_page);
	mutex_destroy(&gf->lock);
	kfree(gf);
	return 0;
}

static const struct file_operations gup_test_fops = {
	.owner = THIS_MODULE,
	.open = gup_test_open,
	.release = gup_test_release,
	.unlocked_ioctl = gup_test_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = gup_test_mmap,
};

static bool debugfs_has(const char *file)
{
	struct dentry *dentry = debugfs_lookup(file, NULL);

	if (IS_ERR_OR_NULL(dentry))
		return false;
	dput(dentry);
	return true;
}

static int __init gup_test_init(void)
{
	if (!name)
		name = debugfs_has(GUP_TEST_NAME) ? GUP_TEST_NAME_BESIDE :
						    GUP_TEST_NAME;
	if (debugfs_has(name)) {
		pr_err("/sys/kernel/debug/%s exists (built-in CONFIG_GUP_TEST?); load with name=<other> to register under another name\n",
		       name);
		return -EEXIST;
	}
	/*
	 * Not debugfs_create_file(): its proxy passes neither mmap() nor
	 * compat_ioctl() on. Without the proxy nothing guards the calls
	 * against the file's removal, and nothing needs to: the file is
	 * removed at module exit only, which no open file lets happen.
	 */
	gup_test_dentry = debugfs_create_file_unsafe(name, 0600, NULL, NULL,
						     &gup_test_fops);
	if (IS_ERR(gup_test_dentry))
		return PTR_ERR(gup_test_dentry);
	return 0;
}

static void __exit gup_test_exit(void)
{
	debugfs_remove(gup_test_dentry);
}

module_init(gup_test_init);
module_exit(gup_test_exit);

MODULE_DESCRIPTION("get_user_pages()/pin_user_pages() test and benchmark device");
MODULE_LICENSE("GPL");
