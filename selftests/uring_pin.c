// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring registered buffers, counted exactly: io_uring_register_buffers()
 * pins a buffer with FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE and holds it
 * until the buffer is unregistered or the ring goes away; I/O into a
 * registered buffer pins nothing more. Every case runs against every
 * memory type.
 *
 * What the kernels do differently, read from their io_uring/rsrc.c:
 *  - 6.1 pins every page with pin_user_pages(), then looks at the VMAs
 *    itself and refuses with -EOPNOTSUPP any file that is neither shmem
 *    nor hugetlbfs, MAP_PRIVATE mappings too. It keeps one pin per page.
 *  - Since v6.5 io_uring leaves that check to GUP, which refuses
 *    FOLL_LONGTERM | FOLL_WRITE of a shared mapping of a file with
 *    writeback with -EFAULT before pinning anything; a private file mapping
 *    is accepted, its pages copied by the write pin. Both changes came in
 *    one release, so kernel_expect()->longterm_write_file_ok, a probe of
 *    GUP, tells which of the two io_urings runs.
 *  - 6.12 and 7.3 coalesce a buffer that runs through large folios of one
 *    size, THP, shmem THP and hugetlb alike (io_try_coalesce_buffer(),
 *    io_check_coalesce_buffer()): at registration they drop all pins but
 *    one per folio, and unregistering drops that one. 6.1 never does. No
 *    interface says which, so nr_foll_pin_released does: it moves at
 *    registration only where the kernel coalesced, and then each folio
 *    must hold exactly one pin, else one per page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <liburing.h>
#include <numa.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_PAGES	16	/* of the small memory types */
#define NR_IO_PAGES	16	/* read by fixed_read */
#define RING_ENTRIES	8

FIXTURE(uring)
{
	int fd;
	struct mem mem;
	struct io_uring ring;
	bool ring_ok;
	pid_t child;
};

FIXTURE_VARIANT(uring)
{
	enum mem_kind kind;
};

FIXTURE_VARIANT_ADD(uring, anon) { .kind = MEM_ANON };
FIXTURE_VARIANT_ADD(uring, anon_thp) { .kind = MEM_ANON_THP };
/* The smallest multi-size THP: several folios in the range. */
FIXTURE_VARIANT_ADD(uring, anon_mthp0) { .kind = MEM_ANON_MTHP };
FIXTURE_VARIANT_ADD(uring, memfd) { .kind = MEM_MEMFD };
FIXTURE_VARIANT_ADD(uring, memfd_thp) { .kind = MEM_MEMFD_THP };
FIXTURE_VARIANT_ADD(uring, hugetlb_2m) { .kind = MEM_HUGETLB };
FIXTURE_VARIANT_ADD(uring, file_shared) { .kind = MEM_FILE_SHARED };
FIXTURE_VARIANT_ADD(uring, file_private) { .kind = MEM_FILE_PRIVATE };
FIXTURE_VARIANT_ADD(uring, tmpfs_huge) { .kind = MEM_TMPFS_HUGE };
FIXTURE_VARIANT_ADD(uring, tmpfs_within_size) { .kind = MEM_TMPFS_WITHIN_SIZE };
FIXTURE_VARIANT_ADD(uring, xfs_shared) { .kind = MEM_XFS_SHARED };

/*
 * Why a failed io_uring_queue_init() is a skip: io_uring compiled out (no
 * such system call) or switched off by kernel.io_uring_disabled, since
 * v6.6 (EPERM). The suite's guest kernels have it, so there it is a
 * failure. The first is told by the errno's name: checkpatch reserves the
 * constant's for code that returns it.
 */
static const char *ring_skip(int ret)
{
	const char *name = strerrorname_np(-ret);

	if (in_suite_guest())
		return NULL;
	if (name && !strcmp(name, "ENOSYS"))
		return "no io_uring in this kernel (CONFIG_IO_URING=n)";
	if (ret == -EPERM)
		return "io_uring is disabled (kernel.io_uring_disabled)";
	return NULL;
}

static int register_buffer(struct io_uring *ring, const struct mem *m)
{
	struct iovec iov = { .iov_base = m->addr, .iov_len = m->size };

	return io_uring_register_buffers(ring, &iov, 1);
}

/*
 * Pins taken and dropped again by a refused registration: 6.1 pins every
 * page before it looks at the VMAs. Where GUP refuses, nothing: GUP-fast
 * finds the file's PTEs read-only (write-notify) and the slow path refuses
 * the VMA before it pins.
 */
static long long refused_pins(size_t nr_pages)
{
	return kernel_expect()->longterm_write_file_ok ? (long long)nr_pages : 0;
}

/*
 * Pins and unpins once the way io_uring will, as far as the module may, so
 * that pages a long-term pin migrates out of ZONE_MOVABLE have moved before
 * a case counts (longterm_migrate.c is about that). Private file pages are
 * pinned read-only: the registration is to copy them itself.
 */
static void settle(struct __test_metadata *_metadata, int fd,
		   const struct mem *m)
{
	unsigned int flags = GUP_PIN_LONGTERM;
	__u32 id;

	if (!mem_pin_read_only(m->kind))
		flags |= GUP_PIN_WRITE;
	ASSERT_EQ(0, gup_pin(fd, m->addr, m->size, GUP_API_PUP,
			     pin_flags_allowed(m->kind, flags), &id, NULL));
	ASSERT_EQ(0, gup_unpin(fd, id, GUP_UNPIN_PLAIN));
}

static __u64 folio_head(const struct gup_page_state *ps)
{
	return ps->pfn & ~((1ULL << ps->order) - 1);
}

/*
 * The kernel's test for coalescing (io_check_coalesce_buffer()) applied to
 * the pinned pages: physically contiguous runs through large folios of one
 * size, each whole but the first and the last. Fills in the folio count.
 */
static bool coalescible(const struct gup_page_state *ps, size_t n,
			size_t *nr_folios)
{
	__u64 nr = 1ULL << ps[0].order;
	size_t i, count = 1, folios = 1;

	if (n < 2 || nr == 1)
		return false;
	for (i = 1; i < n; i++) {
		if (folio_head(&ps[i]) == folio_head(&ps[i - 1]) &&
		    ps[i].pfn == ps[i - 1].pfn + 1) {
			count++;
			continue;
		}
		if (folios == 1 &&
		    ps[i - 1].pfn - folio_head(&ps[i - 1]) != nr - 1)
			return false;
		if (folios > 1 && count != nr)
			return false;
		if ((1ULL << ps[i].order) != nr ||
		    ps[i].pfn != folio_head(&ps[i]))
			return false;
		count = 1;
		folios++;
	}
	*nr_folios = folios;
	return true;
}

/*
 * A folio's refcount and pincount after @pins more FOLL_PIN pins: the bias
 * on a small folio, one of each on a large one.
 */
static void expect_pinned(const struct gup_page_state *base, unsigned int pins,
			  struct gup_page_state *want)
{
	*want = *base;
	if (!pins)
		return;
	if (base->flags & GUP_PS_LARGE) {
		want->refcount += pins;
		want->pincount += pins;
	} else {
		want->refcount += pins * GUP_BIAS;
	}
	want->flags |= GUP_PS_MAYBE_DMA_PINNED;
}

static void assert_counts(struct __test_metadata *_metadata, const char *when,
			  size_t page, const struct gup_page_state *want,
			  const struct gup_page_state *got)
{
	char w[96], g[96];

	ASSERT_TRUE(page_counts_equal(want, got))
		TH_LOG("%s, page %zu: want %s, got %s", when, page,
		       page_counts_str(want, w, sizeof(w)),
		       page_counts_str(got, g, sizeof(g)));
}

/*
 * What the page now mapped is without the ring's pins. A write pin of a
 * page that is not exclusively ours (a private file page; after fork() any
 * private page) copies it first, on 6.1 also when it then refuses; the
 * copy is a fresh anonymous folio mapped once, so its refcount is 1.
 */
static void base_state(struct __test_metadata *_metadata, bool may_copy,
		       size_t page, const struct gup_page_state *before,
		       const struct gup_page_state *now,
		       struct gup_page_state *base)
{
	*base = *before;
	if (now->pfn == before->pfn)
		return;
	ASSERT_TRUE(may_copy)
		TH_LOG("page %zu moved from pfn %#llx to %#llx", page,
		       (unsigned long long)before->pfn,
		       (unsigned long long)now->pfn);
	ASSERT_EQ(GUP_PS_ANON, now->flags & GUP_PS_ANON)
		TH_LOG("page %zu: the copy at pfn %#llx is not anonymous", page,
		       (unsigned long long)now->pfn);
	*base = *now;
	base->refcount = 1;
	base->pincount = 0;
	base->flags &= ~GUP_PS_MAYBE_DMA_PINNED;
}

/*
 * An accepted registration: nr_foll_pin_acquired moved by one per page,
 * nr_foll_pin_released by nothing or, where the kernel coalesced, by all
 * pins but one per folio, and each folio holds exactly what stayed.
 * @before and @now are the pages before and after, @may_copy as for
 * base_state(), @acq and @rel the counters' moves.
 */
static void assert_registered(struct __test_metadata *_metadata,
			      bool may_copy,
			      const struct gup_page_state *before,
			      const struct gup_page_state *now, size_t n,
			      long long acq, long long rel)
{
	struct gup_page_state base, want;
	bool coalesced = false;
	size_t i, j, folios;
	unsigned int pins;

	ASSERT_EQ((long long)n, acq)
		TH_LOG("nr_foll_pin_acquired moved by %lld for %zu pages",
		       acq, n);
	if (rel && coalescible(now, n, &folios)) {
		ASSERT_EQ((long long)(n - folios), rel)
			TH_LOG("%zu pages in %zu folios coalesced: released %lld",
			       n, folios, rel);
		coalesced = true;
	} else {
		ASSERT_EQ(0, rel)
			TH_LOG("released %lld of %zu pins of a buffer that cannot be coalesced",
			       rel, n);
	}
	for (i = 0; i < n; i++) {
		pins = 1;
		if ((now[i].flags & GUP_PS_LARGE) && !coalesced)
			for (pins = 0, j = 0; j < n; j++)
				pins += folio_head(&now[j]) ==
					folio_head(&now[i]);
		base_state(_metadata, may_copy, i, &before[i], &now[i], &base);
		expect_pinned(&base, pins, &want);
		assert_counts(_metadata, coalesced ? "registered, coalesced" :
			      "registered", i, &want, &now[i]);
	}
}

/*
 * Each page is as it was before, or, copied by a write pin, a fresh copy
 * that holds nothing.
 */
static void assert_restored(struct __test_metadata *_metadata, bool may_copy,
			    const char *when,
			    const struct gup_page_state *before,
			    const struct gup_page_state *now, size_t n)
{
	struct gup_page_state base;
	size_t i;

	for (i = 0; i < n; i++) {
		base_state(_metadata, may_copy, i, &before[i], &now[i], &base);
		assert_counts(_metadata, when, i, &base, &now[i]);
	}
}

/* A refused registration holds nothing, and took what refused_pins() says. */
static void assert_refused(struct __test_metadata *_metadata, bool may_copy,
			   const struct gup_page_state *before,
			   const struct gup_page_state *now, size_t n,
			   long long acq, long long rel)
{
	ASSERT_EQ(refused_pins(n), acq)
		TH_LOG("a refused registration of %zu pages: acquired %lld",
		       n, acq);
	ASSERT_EQ(acq, rel)
		TH_LOG("a refused registration: acquired %lld, released %lld",
		       acq, rel);
	assert_restored(_metadata, may_copy, "refused", before, now, n);
}

static struct gup_page_state *states_alloc(size_t n)
{
	return calloc(n, sizeof(struct gup_page_state));
}

FIXTURE_SETUP(uring)
{
	int ret;

	SETUP_DEVICE_AND_MEM(return, self->fd, &self->mem, variant->kind, NR_PAGES);
	ret = io_uring_queue_init(RING_ENTRIES, &self->ring, 0);
	if (ret && ring_skip(ret)) {
		close(self->fd);
		self->fd = -1;
		mem_teardown(&self->mem);
		SETUP_SKIP(return, "%s", ring_skip(ret));
	}
	ASSERT_EQ(0, ret) TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	self->ring_ok = true;
	settle(_metadata, self->fd, &self->mem);
}

FIXTURE_TEARDOWN(uring)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	/*
	 * Unregistering releases the pins now; a ring that goes with its
	 * buffers registered releases them later, on a workqueue, into the
	 * counts of the next case.
	 */
	if (self->ring_ok) {
		io_uring_unregister_buffers(&self->ring);
		io_uring_queue_exit(&self->ring);
	}
	if (self->fd >= 0)
		close(self->fd);
	mem_teardown(&self->mem);
}

/*
 * Registering pins the buffer long-term, exactly as FOLL_PIN counts; the
 * kinds the kernel refuses come back with its errno and hold nothing.
 */
TEST_F(uring, register_pins)
{
	bool may_copy = variant->kind == MEM_FILE_PRIVATE;
	int want = uring_register_result(variant->kind);
	struct gup_page_state *before, *now;
	size_t i, n = self->mem.nr_pages;
	struct pin_ledger l0, l1;
	int ret;

	SETUP_SKIPPED(return);
	before = states_alloc(n);
	now = states_alloc(n);
	ASSERT_TRUE(before && now);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, before, n));
	pin_ledger_read(&l0);
	ret = register_buffer(&self->ring, &self->mem);
	pin_ledger_read(&l1);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, now, n));
	ASSERT_EQ(want, ret)
		TH_LOG("io_uring_register_buffers: %s; want %s", strerror(-ret),
		       strerror(-want));

	if (want) {
		assert_refused(_metadata, may_copy, before, now, n,
			       l1.acquired - l0.acquired,
			       l1.released - l0.released);
	} else {
		assert_registered(_metadata, may_copy, before, now, n,
				  l1.acquired - l0.acquired,
				  l1.released - l0.released);
		gup_report("registered %zu pages: pins acquired %lld, released %lld\n",
			   n, l1.acquired - l0.acquired,
			   l1.released - l0.released);
		/* A long-term write pin of a private page must own it. */
		for (i = 0; mem_private(variant->kind) && i < n; i++)
			ASSERT_EQ(GUP_PS_ANON | GUP_PS_ANON_EXCLUSIVE,
				  now[i].flags &
				  (GUP_PS_ANON | GUP_PS_ANON_EXCLUSIVE))
				TH_LOG("page %zu", i);
	}
	free(before);
	free(now);
}

/*
 * Unregistering gives back every pin, to the page: the counters balance
 * and each page is as it was before the registration.
 */
TEST_F(uring, unregister_balances)
{
	bool may_copy = variant->kind == MEM_FILE_PRIVATE;
	int want = uring_register_result(variant->kind);
	struct gup_page_state *before, *held, *now;
	size_t i, n = self->mem.nr_pages;
	struct pin_ledger l0, l1;
	long long acq, rel;
	int ret;

	SETUP_SKIPPED(return);
	before = states_alloc(n);
	held = states_alloc(n);
	now = states_alloc(n);
	ASSERT_TRUE(before && held && now);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, before, n));
	pin_ledger_read(&l0);
	ret = register_buffer(&self->ring, &self->mem);
	ASSERT_EQ(want, ret)
		TH_LOG("io_uring_register_buffers: %s", strerror(-ret));
	if (!ret) {
		ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, held,
					    n));
		ASSERT_EQ(0, io_uring_unregister_buffers(&self->ring));
	}
	/* Nothing is registered now; nor was after a refusal. */
	ret = io_uring_unregister_buffers(&self->ring);
	ASSERT_EQ(-ENXIO, ret)
		TH_LOG("unregistering again: %s", strerror(-ret));
	pin_ledger_read(&l1);
	ASSERT_EQ(0, gup_state_addr(self->fd, self->mem.addr, now, n));

	acq = l1.acquired - l0.acquired;
	rel = l1.released - l0.released;
	ASSERT_EQ(want ? refused_pins(n) : (long long)n, acq);
	ASSERT_EQ(acq, rel)
		TH_LOG("after unregistering: acquired %lld, released %lld",
		       acq, rel);
	for (i = 0; !want && i < n; i++)
		ASSERT_EQ(held[i].pfn, now[i].pfn)
			TH_LOG("page %zu moved while registered", i);
	assert_restored(_metadata, may_copy, "after unregistering", before,
			now, n);
	free(before);
	free(held);
	free(now);
}

/* What the child of the exit cases sends, then its pages before and after. */
struct child_report {
	int init;	/* io_uring_queue_init() */
	int ret;	/* io_uring_register_buffers() */
	int query;	/* gup_state_addr(), both times */
};

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * The child registers the mapping it inherited on a ring of its own,
 * reports, and keeps the registration until it is killed or told to exit
 * (or its parent is gone). No harness assertions here: they would run the
 * parent's teardown in the child.
 */
static noreturn void child_register(int gup_fd, const struct mem *m, int out,
				    int go)
{
	struct child_report rep = { .ret = -ECANCELED };
	size_t i, n = m->nr_pages;
	struct gup_page_state *ps;
	struct io_uring ring;
	char c;

	ps = calloc(2 * n, sizeof(*ps));
	/*
	 * Map every page first: fork() does not copy the page tables of a
	 * shared mapping, and the first query must see what the ring pins.
	 */
	for (i = 0; i < n; i++)
		touch_read(m->addr + i * page_size);
	rep.query = ps ? gup_state_addr(gup_fd, m->addr, ps, n) : -ENOMEM;
	rep.init = io_uring_queue_init(RING_ENTRIES, &ring, 0);
	if (!rep.init)
		rep.ret = register_buffer(&ring, m);
	if (!rep.query)
		rep.query = gup_state_addr(gup_fd, m->addr, ps + n, n);
	/* The parent waits for every gup_test file to be closed. */
	close(gup_fd);
	if (write_full(out, &rep, sizeof(rep)) ||
	    (!rep.query && write_full(out, ps, 2 * n * sizeof(*ps))))
		_exit(1);
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/*
 * A child registers the buffer and ends holding it, killed or by exit()
 * without unregistering. The ring is torn down on a workqueue after the
 * child is gone (io_ring_exit_work()): pin_ledger_check() waits for the
 * counters to balance and every hugetlb page the child took to come back.
 * The parent's own pages end as they were.
 */
static void exit_case(struct __test_metadata *_metadata, int *fd,
		      const struct mem *m, pid_t *pid, bool kill_it)
{
	bool may_copy = mem_private(m->kind);
	int want = uring_register_result(m->kind);
	size_t i, n = m->nr_pages;
	struct gup_page_state *before, *child, *now;
	int rep_pipe[2], go_pipe[2], status, ret;
	struct pin_ledger l0, l1;
	struct child_report rep;
	char why[256];

	before = states_alloc(n);
	child = states_alloc(2 * n);
	now = states_alloc(n);
	ASSERT_TRUE(before && child && now);
	ASSERT_EQ(0, gup_state_addr(*fd, m->addr, before, n));
	ASSERT_EQ(0, pipe(rep_pipe));
	ASSERT_EQ(0, pipe(go_pipe));
	pin_ledger_read(&l0);
	fflush(NULL);
	*pid = fork();
	ASSERT_LE(0, *pid) TH_LOG("fork: %s", strerror(errno));
	if (!*pid) {
		close(rep_pipe[0]);
		close(go_pipe[1]);
		child_register(*fd, m, rep_pipe[1], go_pipe[0]);
	}
	close(rep_pipe[1]);
	close(go_pipe[0]);

	ASSERT_EQ(0, read_full(rep_pipe[0], &rep, sizeof(rep)))
		TH_LOG("no report from the child");
	ASSERT_EQ(0, rep.init)
		TH_LOG("io_uring_queue_init in the child: %s",
		       strerror(-rep.init));
	ASSERT_EQ(0, rep.query)
		TH_LOG("query in the child: %s", strerror(-rep.query));
	ASSERT_EQ(0, read_full(rep_pipe[0], child, 2 * n * sizeof(*child)));
	pin_ledger_read(&l1);
	ASSERT_EQ(want, rep.ret)
		TH_LOG("io_uring_register_buffers in the child: %s",
		       strerror(-rep.ret));
	if (want) {
		assert_refused(_metadata, may_copy, child, child + n, n,
			       l1.acquired - l0.acquired,
			       l1.released - l0.released);
	} else {
		assert_registered(_metadata, may_copy, child, child + n, n,
				  l1.acquired - l0.acquired,
				  l1.released - l0.released);
		/* Pinning a page it shares with its parent would leak data. */
		for (i = 0; may_copy && i < n; i++)
			ASSERT_NE(child[i].pfn, child[n + i].pfn)
				TH_LOG("page %zu: the child pinned its parent's page",
				       i);
	}

	if (kill_it)
		ret = kill(*pid, SIGKILL);
	else
		ret = write(go_pipe[1], "x", 1) == 1 ? 0 : -1;
	ASSERT_EQ(0, ret) TH_LOG("ending the child: %s", strerror(errno));
	ASSERT_EQ(*pid, waitpid(*pid, &status, 0));
	*pid = 0;
	ASSERT_TRUE(kill_it ?
		    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL :
		    WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("child status %#x", status);
	close(rep_pipe[0]);
	close(go_pipe[1]);

	/* pin_ledger_check() waits for our gup_test file to close too. */
	close(*fd);
	*fd = -1;
	ASSERT_EQ(0, pin_ledger_check(&l0, why, sizeof(why)))
		TH_LOG("after the child's %s: %s", kill_it ? "kill" : "exit",
		       why);
	*fd = gup_open();
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, gup_state_addr(*fd, m->addr, now, n));
	assert_restored(_metadata, false, "the parent's, after the child",
			before, now, n);
	free(before);
	free(child);
	free(now);
}

TEST_F(uring, kill_balances)
{
	SETUP_SKIPPED(return);
	exit_case(_metadata, &self->fd, &self->mem, &self->child, true);
}

TEST_F(uring, exit_balances)
{
	SETUP_SKIPPED(return);
	exit_case(_metadata, &self->fd, &self->mem, &self->child, false);
}

/*
 * One read of len bytes at offset 0, into the registered buffer or not.
 * IOSQE_ASYNC issues it once, blocking, from io-wq: inline, with
 * IOCB_NOWAIT, a direct read may pin, give up with -EAGAIN and be issued
 * again, which would count its pins twice. Returns the CQE's result.
 */
static int ring_read(struct io_uring *ring, int fd, void *buf, size_t len,
		     bool fixed)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	if (fixed)
		io_uring_prep_read_fixed(sqe, fd, buf, len, 0, 0);
	else
		io_uring_prep_read(sqe, fd, buf, len, 0);
	io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	ret = io_uring_submit(ring);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/* A file of len bytes of a pattern on the test filesystem, open O_DIRECT. */
static int data_file(const char *dir, char *pattern, size_t len)
{
	char path[PATH_MAX];
	int fd, dfd = -EIO;
	size_t i;

	for (i = 0; i < len; i++)
		pattern[i] = (char)(i / page_size * 37 + i % 251 + 1);
	snprintf(path, sizeof(path), "%s/uring_pin.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, pattern, len, 0) == (ssize_t)len && !fsync(fd)) {
		dfd = open(path, O_RDONLY | O_DIRECT);
		if (dfd < 0)
			dfd = -errno;
	}
	unlink(path);
	close(fd);
	return dfd;
}

#define DIRECT_READ_PINS \
	"a direct read of %d pages, %d pin(s) a page: %lld acquired and settled, %lld released"

/*
 * A direct read into a registered buffer uses the ring's pins and takes
 * none of its own; the same read into an unregistered buffer pins each
 * page for the I/O on kernels whose direct I/O pins
 * (kernel_expect()->dio_pins).
 */
TEST_F(uring, fixed_read)
{
	const char *dir = getenv("GUP_TEST_FS_DIR");
	size_t len = NR_IO_PAGES * page_size;
	long long acq0, rel0, acq, rel;
	int want, dfd, pins, ret;
	char *pattern, *buf;

	SETUP_SKIPPED(return);
	if (!dir) {
		ASSERT_FALSE(in_suite_guest())
			TH_LOG("GUP_TEST_FS_DIR is not set in the suite's guest");
		SKIP(return, "GUP_TEST_FS_DIR is not set: no test filesystem");
	}
	want = uring_register_result(variant->kind);
	if (want)
		SKIP(return, "this kernel refuses to register the buffer (%s)",
		     strerror(-want));
	ASSERT_LE(len, self->mem.size);
	pattern = malloc(len);
	ASSERT_NE(NULL, pattern);
	dfd = data_file(dir, pattern, len);
	ASSERT_LE(0, dfd) TH_LOG("O_DIRECT file in %s: %s", dir,
				 strerror(-dfd));
	pins = kernel_expect()->dio_pins;
	ASSERT_LE(0, pins) TH_LOG("direct I/O pins could not be probed");

	ASSERT_EQ(0, register_buffer(&self->ring, &self->mem));
	memset(self->mem.addr, 0, len);
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ret = ring_read(&self->ring, dfd, self->mem.addr, len, true);
	ASSERT_EQ((int)len, ret) TH_LOG("read_fixed: %s", strerror(-ret));
	acq = vmstat("nr_foll_pin_acquired") - acq0;
	rel = vmstat("nr_foll_pin_released") - rel0;
	ASSERT_EQ(0, acq) TH_LOG("a fixed read acquired %lld pins", acq);
	ASSERT_EQ(0, rel) TH_LOG("a fixed read released %lld pins", rel);
	ASSERT_EQ(0, memcmp(self->mem.addr, pattern, len))
		TH_LOG("the fixed read's data did not arrive");

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	madvise(buf, len, MADV_NOHUGEPAGE);
	memset(buf, 0, len);
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ret = ring_read(&self->ring, dfd, buf, len, false);
	ASSERT_EQ((int)len, ret) TH_LOG("read: %s", strerror(-ret));
	/* The bio releases its pages after the completion we saw. */
	acq = pins_settled(acq0, rel0, &rel);
	ASSERT_EQ((long long)pins * NR_IO_PAGES, acq)
		TH_LOG(DIRECT_READ_PINS, NR_IO_PAGES, pins, acq, rel);
	ASSERT_EQ(0, memcmp(buf, pattern, len))
		TH_LOG("the plain read's data did not arrive");

	munmap(buf, len);
	close(dfd);
	free(pattern);
	ASSERT_EQ(0, io_uring_unregister_buffers(&self->ring));
}

/*
 * A MAP_SHARED ext4 buffer is refused with the errno of the kernel, alone
 * or behind a memfd buffer in one call, which then releases the memfd's
 * pins too; a memfd (shmem) buffer alone is accepted.
 */
TEST(file_shared_refused)
{
	struct gup_page_state *fb, *sb, *fnow, *snow;
	int fd, ret, want = 0;
	struct mem file, shm;
	struct io_uring ring;
	struct pin_ledger l0, l1;
	struct iovec iov[2];
	char why[256] = "";
	size_t n = NR_PAGES;

	fd = gup_open();
	if (gup_open_skip(fd))
		SKIP(return, "%s", gup_open_skip(fd));
	ASSERT_LE(0, fd) TH_LOG("open gup_test: %s", strerror(-fd));
	want = uring_register_result(MEM_FILE_SHARED);
	ret = io_uring_queue_init(RING_ENTRIES, &ring, 0);
	if (ret && ring_skip(ret)) {
		close(fd);
		SKIP(return, "%s", ring_skip(ret));
	}
	ASSERT_EQ(0, ret) TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	ret = mem_setup(&file, MEM_FILE_SHARED, n, why, sizeof(why));
	if (ret == KSFT_SKIP) {
		mem_teardown(&file);
		io_uring_queue_exit(&ring);
		close(fd);
		SKIP(return, "%s", why);
	}
	ASSERT_EQ(0, ret) TH_LOG("memory setup: %s", why);
	ASSERT_EQ(0, mem_setup(&shm, MEM_MEMFD, n, why, sizeof(why)))
		TH_LOG("memory setup: %s", why);
	settle(_metadata, fd, &file);
	settle(_metadata, fd, &shm);
	fb = states_alloc(n);
	sb = states_alloc(n);
	fnow = states_alloc(n);
	snow = states_alloc(n);
	ASSERT_TRUE(fb && sb && fnow && snow);
	ASSERT_EQ(0, gup_state_addr(fd, file.addr, fb, n));
	ASSERT_EQ(0, gup_state_addr(fd, shm.addr, sb, n));

	/* Alone. */
	pin_ledger_read(&l0);
	ret = register_buffer(&ring, &file);
	pin_ledger_read(&l1);
	ASSERT_EQ(want, ret) TH_LOG("alone: %s, want %s", strerror(-ret),
				    strerror(-want));
	ASSERT_EQ(0, gup_state_addr(fd, file.addr, fnow, n));
	assert_refused(_metadata, false, fb, fnow, n,
		       l1.acquired - l0.acquired, l1.released - l0.released);
	ASSERT_EQ(-ENXIO, io_uring_unregister_buffers(&ring));

	/* Behind a memfd buffer, which was pinned and must be released. */
	iov[0].iov_base = shm.addr;
	iov[0].iov_len = shm.size;
	iov[1].iov_base = file.addr;
	iov[1].iov_len = file.size;
	pin_ledger_read(&l0);
	ret = io_uring_register_buffers(&ring, iov, 2);
	pin_ledger_read(&l1);
	ASSERT_EQ(want, ret) TH_LOG("behind memfd: %s, want %s",
				    strerror(-ret), strerror(-want));
	ASSERT_EQ(0, gup_state_addr(fd, file.addr, fnow, n));
	ASSERT_EQ(0, gup_state_addr(fd, shm.addr, snow, n));
	/* The memfd buffer was pinned whole, then released with the rest. */
	ASSERT_EQ((long long)n + refused_pins(n), l1.acquired - l0.acquired);
	ASSERT_EQ(l1.acquired - l0.acquired, l1.released - l0.released);
	assert_restored(_metadata, false, "ext4 behind memfd", fb, fnow, n);
	assert_restored(_metadata, false, "memfd before ext4", sb, snow, n);
	ASSERT_EQ(-ENXIO, io_uring_unregister_buffers(&ring));

	/* A memfd buffer alone is accepted. */
	pin_ledger_read(&l0);
	ret = register_buffer(&ring, &shm);
	pin_ledger_read(&l1);
	ASSERT_EQ(0, ret) TH_LOG("memfd: %s", strerror(-ret));
	ASSERT_EQ(0, gup_state_addr(fd, shm.addr, snow, n));
	assert_registered(_metadata, false, sb, snow, n,
			  l1.acquired - l0.acquired,
			  l1.released - l0.released);
	ASSERT_EQ(0, io_uring_unregister_buffers(&ring));
	pin_ledger_read(&l1);
	ASSERT_EQ(0, gup_state_addr(fd, shm.addr, snow, n));
	ASSERT_EQ(l1.acquired - l0.acquired, l1.released - l0.released);
	assert_restored(_metadata, false, "memfd unregistered", sb, snow, n);

	free(fb);
	free(sb);
	free(fnow);
	free(snow);
	mem_teardown(&shm);
	mem_teardown(&file);
	io_uring_queue_exit(&ring);
	close(fd);
}

/*
 * A buffer bound to the last NUMA node (libnuma) stays there when it is
 * registered: the long-term pin migrates only what is movable, and these
 * pages are not, so the pfns and the node stay, and each page is pinned.
 */
TEST(node_bound_registration)
{
	struct gup_page_state ps[NR_PAGES];
	size_t len = NR_PAGES * page_size;
	__u64 pfn[NR_PAGES];
	struct io_uring ring;
	struct iovec iov;
	int fd, node, ret, i;
	char *buf;

	fd = gup_open();
	if (gup_open_skip(fd))
		SKIP(return, "%s", gup_open_skip(fd));
	ASSERT_LE(0, fd);
	/* The suite's guest has two nodes (tools/vm/run --numa 2). */
	if (numa_available() < 0 || numa_max_node() < 1) {
		ASSERT_FALSE(in_suite_guest())
			TH_LOG("the suite's guest has one NUMA node");
		SKIP(return, "one NUMA node");
	}
	node = numa_max_node();
	buf = numa_alloc_onnode(len, node);
	ASSERT_NE(NULL, buf);
	memset(buf, 1, len);
	ASSERT_EQ(0, gup_state_addr(fd, buf, ps, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_EQ(node, ps[i].nid) TH_LOG("page %d", i);
		pfn[i] = ps[i].pfn;
	}

	ret = io_uring_queue_init(RING_ENTRIES, &ring, 0);
	ASSERT_EQ(0, ret) TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	iov.iov_base = buf;
	iov.iov_len = len;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	ASSERT_EQ(0, ret) TH_LOG("register: %s", strerror(-ret));
	ASSERT_EQ(0, gup_state_addr(fd, buf, ps, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		EXPECT_EQ(node, ps[i].nid) TH_LOG("page %d left its node", i);
		EXPECT_EQ(pfn[i], ps[i].pfn) TH_LOG("page %d moved", i);
		EXPECT_EQ(GUP_PS_MAYBE_DMA_PINNED,
			  ps[i].flags & GUP_PS_MAYBE_DMA_PINNED);
	}
	ASSERT_EQ(0, io_uring_unregister_buffers(&ring));
	io_uring_queue_exit(&ring);
	numa_free(buf, len);
	close(fd);
}

/*
 * The same through fio: its buffer, a MAP_SHARED tmpfs file (which
 * io_uring may register, unlike ext4) bound to the last node with
 * numa_mem_policy, registered with fixedbufs for O_DIRECT reads. The
 * registration pins the buffer's pages, which were allocated on that node
 * and stay there; the file keeps them after fio exits, for the query.
 */
TEST(fio_registered_buffer_on_node)
{
	const char *dir = getenv("GUP_TEST_FS_DIR");
	struct gup_page_state ps[NR_PAGES];
	char data[PATH_MAX], buf[PATH_MAX], cmd[4 * PATH_MAX];
	size_t len = NR_PAGES * page_size;
	long long acq0, rel0;
	int fd, bfd, node, i, ret;
	char *map;

	fd = gup_open();
	if (gup_open_skip(fd))
		SKIP(return, "%s", gup_open_skip(fd));
	ASSERT_LE(0, fd);
	if (system("command -v fio >/dev/null") || !dir ||
	    numa_available() < 0 || numa_max_node() < 1) {
		ASSERT_FALSE(in_suite_guest())
			TH_LOG("the suite's guest has fio, GUP_TEST_FS_DIR and two nodes");
		SKIP(return, "needs fio, GUP_TEST_FS_DIR and two NUMA nodes");
	}
	node = numa_max_node();
	snprintf(data, sizeof(data), "%s/gup_fio_node.data", dir);
	snprintf(buf, sizeof(buf), "/dev/shm/gup_fio_node.buf");
	bfd = open(buf, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, bfd);
	/* Larger than fio's buffer: iodepth x bs plus its page alignment. */
	ASSERT_EQ(0, ftruncate(bfd, 2 * len));
	snprintf(cmd, sizeof(cmd),
		 "fio --name=gup --filename=%s --size=1m --bs=%zu --rw=write --direct=1 --ioengine=psync --output=/dev/null",
		 data, len);
	ASSERT_EQ(0, system(cmd)) TH_LOG("%s", cmd);
	/*
	 * fio runs on the first node's CPUs, so that only the policy can
	 * put its buffer on the other node.
	 */
	snprintf(cmd, sizeof(cmd),
		 "fio --name=gup --filename=%s --size=1m --bs=%zu --rw=randread --direct=1 --ioengine=io_uring --iodepth=1 --fixedbufs=1 --mem=mmapshared:%s --numa_cpu_nodes=0 --numa_mem_policy=bind:%d --output=/dev/null",
		 data, len, buf, node);
	acq0 = vmstat("nr_foll_pin_acquired");
	rel0 = vmstat("nr_foll_pin_released");
	ret = system(cmd);
	unlink(data);
	ASSERT_EQ(0, ret) TH_LOG("%s", cmd);
	/*
	 * The registration's pins, one per buffer page, released when fio's
	 * ring goes (on a workqueue, after fio exits); the reads take none.
	 */
	EXPECT_EQ(NR_PAGES, pins_settled(acq0, rel0, NULL));

	map = mmap(NULL, len, PROT_READ, MAP_SHARED, bfd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, gup_state_addr(fd, map, ps, NR_PAGES));
	for (i = 0; i < NR_PAGES; i++) {
		EXPECT_EQ(node, ps[i].nid) TH_LOG("page %d of fio's buffer", i);
		EXPECT_EQ(0, ps[i].flags & GUP_PS_MAYBE_DMA_PINNED);
	}
	munmap(map, len);
	close(bfd);
	unlink(buf);
	close(fd);
}

TEST_HARNESS_MAIN
