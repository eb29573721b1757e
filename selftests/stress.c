// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency stress: pin sessions against everything that changes an
 * address space under them.
 *
 * For GUP_STRESS_SECONDS (default 30), threads pin, query, DMA through and
 * unpin pages of a few "slots" while another thread remaps them as one
 * memory kind of gup_util's table after another, and unmaps, mremaps,
 * madvises and mprotects them; another forks children that
 * copy-on-write the slots or hold pins of their own until they are
 * SIGKILLed; two threads race GUP_PIN_STOP on one session; two more race
 * close() of a dup'ed fd against an ioctl on it. Afterwards no gup_test
 * file is open, every pin taken was released and the hugetlb pool is full.
 *
 * Workers never assert: they record the first failure and stop the run,
 * and the main thread asserts once everything is joined and released.
 *
 * GUP_STRESS_SEED repeats a run's random choices, not the interleaving of
 * its threads: a race that failed once may take several runs to fail again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif

#define NR_SLOTS	8		/* slots the pins go to */
#define SPARE		NR_SLOTS	/* where mremap() parks a slot */
/* A THP or a hugetlb page: room for every kind but MEM_P_WIDE's. */
#define SLOT_SIZE	huge_size()
/* A guard hole before every slot, the spare included, and after the last. */
#define AREA_SIZE	((2 * (NR_SLOTS + 1) + 1) * SLOT_SIZE)

#define NR_PINNERS	3
#define MAX_HELD	4		/* sessions a pinner holds at once */
#define SMALL_PAGES	16		/* pages of most pins, at most */
#define DMA_MAX		(256UL << 10)	/* bytes of one DMA, at most */
#define DUP_LEFT_MAX	8		/* dup sessions left to the end */
#define CHILD_PINS	4		/* sessions a pin child starts */
#define COW_WRITES	8		/* ranges a COW child writes */
#define PATTERN_SIZE	(64UL << 10)	/* bytes a COW child writes */
#define READY_WAIT_MS	2000		/* for a pin child's pins */

#define DEFAULT_SECONDS	30
#define MAX_SECONDS	600

enum counter {
	C_PIN, C_PIN_ERR, C_UNPIN, C_QUERY, C_DMA, C_DMA_EPERM,
	C_REMAP, C_MUNMAP, C_MAP_FALLBACK, C_HUGETLB_MAP,
	C_MREMAP, C_MREMAP_ERR, C_MADVISE, C_MPROTECT,
	C_FORK, C_FORK_ERR, C_COW_CHILD, C_PIN_CHILD,
	C_KILL, C_KILL_HOLDING, C_KILL_BENCH,
	C_STOP_RACE, C_DUP_RACE, C_DUP_LAST, C_DUP_EBADF, C_DUP_LEFT,
	C_NR,
};

/* must: a run that did none of these did not stress what it is for. */
static const struct {
	const char *name;
	bool must;
} counters[C_NR] = {
	[C_PIN] = { "pins", true },
	[C_PIN_ERR] = { "pins failed (expected errno)", false },
	[C_UNPIN] = { "unpins", true },
	[C_QUERY] = { "session queries", true },
	[C_DMA] = { "dma", true },
	[C_DMA_EPERM] = { "dma to read-only pins (EPERM)", false },
	[C_REMAP] = { "remaps", true },
	[C_MUNMAP] = { "munmaps", true },
	[C_MAP_FALLBACK] = { "remaps fallen back to anon", false },
	[C_HUGETLB_MAP] = { "hugetlb maps", false },
	[C_MREMAP] = { "mremaps", true },
	[C_MREMAP_ERR] = { "mremaps refused", false },
	[C_MADVISE] = { "madvise(DONTNEED)", true },
	[C_MPROTECT] = { "mprotects", true },
	[C_FORK] = { "forks", true },
	[C_FORK_ERR] = { "forks failed (EAGAIN/ENOMEM)", false },
	[C_COW_CHILD] = { "cow children", true },
	[C_PIN_CHILD] = { "pin children", true },
	[C_KILL] = { "kills", true },
	[C_KILL_HOLDING] = { "kills with pins held", true },
	[C_KILL_BENCH] = { "kills around GUP_BENCH", false },
	[C_STOP_RACE] = { "stop races", true },
	[C_DUP_RACE] = { "dup races, shared file", true },
	[C_DUP_LAST] = { "dup races, last fd of a file", true },
	[C_DUP_EBADF] = { "dup races lost to close (EBADF)", false },
	[C_DUP_LEFT] = { "dup sessions left to close", false },
};

/* What a pin child tells its parent, in memory shared with it. */
enum child_state { CHILD_STARTING, CHILD_READY, CHILD_HOLDING };

struct child_shared {
	atomic_int state;
	atomic_int err;		/* an unexpected -errno of the child */
};

/* A session a pinner holds. */
struct held {
	__u32 id;
	unsigned int api;
	unsigned int flags;
	__u64 nr_pages;
};

struct pinner {
	pthread_t thread;
	int fd;
	unsigned long long rng;
	struct gup_page_state *ps;
	char *buf;
	struct held held[MAX_HELD];
	int nr_held;
};

/* Two threads released together by a barrier. */
struct race {
	pthread_barrier_t barrier;
	bool quit;
	unsigned long long rng;
	/* The stop race: both stop this session. */
	__u32 id;
	unsigned int how;
	int ret;		/* the partner's */
	/* The dup race: the partner closes fd after delay_us. */
	int fd;
	unsigned int delay_us;
};

/* What became of the mapper's attempts at a memory kind. */
struct kind_tally {
	bool missing;		/* the kernel lacks it (a skip's reason) */
	long mapped;
	long failed;		/* no free hugetlb page, a THP not to be had */
	char why[128];		/* the last failure's or the skip's reason */
};

/* The run: one test per process, so one of these will do. */
static struct {
	char dev[PATH_MAX];
	int fd_shared;		/* pinners 0 and 1, the races */
	int fd_own;		/* pinner 2 */
	char *area;
	int hugetlb_max;	/* slots that may be hugetlb at once */
	/* The mapper's alone, but for the set-up and the end. */
	struct mem mem[NR_SLOTS];
	struct kind_tally tally[MEM_KINDS];
	enum mem_kind deck[MEM_KINDS];	/* pick_kind()'s round */
	int deck_left;
	/*
	 * Held for writing by the mapper while it makes a slot's memory of a
	 * kind (its files, its faults, the kind's checks of the folios it
	 * got) or releases the old (which writes a THP setting back, opening
	 * a file). Held for reading by what would change those pages under the
	 * checks (a pin's fault, copy-on-write or unshare; a fork) and by the
	 * dup race while no new fd may take its number. Never by children.
	 */
	pthread_rwlock_t setup_lock;
	unsigned int seed;
	char *pattern;
	struct child_shared *child;
	struct race stop_race, dup_race;
	atomic_bool stop;
	atomic_long count[C_NR];
	pthread_mutex_t fail_lock;
	int failures;
	char why[512];
} run = {
	.fail_lock = PTHREAD_MUTEX_INITIALIZER,
};

static void bump(enum counter c)
{
	atomic_fetch_add(&run.count[c], 1);
}

static bool stopping(void)
{
	return atomic_load(&run.stop);
}

/* Records the first failure for the main thread and ends the run. */
static void fail_msg(const char *why)
{
	pthread_mutex_lock(&run.fail_lock);
	if (!run.failures++)
		snprintf(run.why, sizeof(run.why), "%s", why);
	pthread_mutex_unlock(&run.fail_lock);
	atomic_store(&run.stop, true);
}

/* A macro: the compiler checks the format as snprintf()'s. */
#define fail(...) do {							\
	char why_[sizeof(run.why)];					\
									\
	snprintf(why_, sizeof(why_), __VA_ARGS__);			\
	fail_msg(why_);							\
} while (0)

/* xorshift64: cheap, and safe to call in a child of a threaded process. */
static unsigned long long rnd(unsigned long long *s)
{
	unsigned long long x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static unsigned long below(unsigned long long *s, unsigned long n)
{
	return rnd(s) % n;
}

/* Each thread its own sequence, all from the run's seed. */
static unsigned long long thread_rng(unsigned int n)
{
	unsigned long long s = (run.seed + 1ULL) * 0x9e3779b97f4a7c15ULL;

	s ^= (n + 1ULL) * 0xbf58476d1ce4e5b9ULL;
	return s ? s : 1;
}

static size_t slot_pages(void)
{
	return SLOT_SIZE / page_size;
}

static char *slot_addr(int i)
{
	return run.area + (2 * i + 1) * SLOT_SIZE;
}

static int slot_of(const char *addr)
{
	return (addr - run.area) / SLOT_SIZE / 2;
}

/* What a pin or bench may fail with when the mapper got there first. */
static bool gup_err_expected(int err)
{
	switch (err) {
	case -EFAULT:
	case -ENOMEM:
	case -EINTR:
	case -EAGAIN:
	case -EPERM:
	case -E2BIG:
		return true;
	}
	return false;
}

/* A range of one slot: mostly a few pages, now and then all of it. */
static char *pick_range(unsigned long long *rng, size_t max_small,
			size_t *size)
{
	size_t pages = slot_pages(), n, first;

	n = below(rng, 8) ? 1 + below(rng, max_small) : pages;
	first = below(rng, pages - n + 1);
	*size = n * page_size;
	return slot_addr(below(rng, NR_SLOTS)) + first * page_size;
}

static unsigned int pick_flags(unsigned long long *rng, unsigned int api)
{
	unsigned int flags = below(rng, 2) ? GUP_PIN_WRITE : 0;

	if (api_pins(api) && !below(rng, 4))
		flags |= GUP_PIN_LONGTERM;
	return flags;
}

/* Any way the module takes for a session of this api and flags. */
static unsigned int pick_how(unsigned long long *rng, unsigned int api,
			     unsigned int flags)
{
	if (!api_pins(api))
		return GUP_UNPIN_PUT;
	if (flags & GUP_PIN_WRITE)
		return GUP_UNPIN_PLAIN +
		       below(rng, GUP_UNPIN_DEVICE_DIRTY + 1 - GUP_UNPIN_PLAIN);
	return below(rng, 2) ? GUP_UNPIN_PLAIN : GUP_UNPIN_CLEAN_LOCK;
}

/* GUP_PIN_START, keeping what it returns; the children use it too. */
static int pin_start(int fd, char *addr, size_t size, unsigned int api,
		     unsigned int flags, struct gup_pin_session *s)
{
	memset(s, 0, sizeof(*s));
	s->addr = (uintptr_t)addr;
	s->size = size;
	s->api = api;
	s->flags = flags;
	return ioctl(fd, GUP_PIN_START, s) ? -errno : 0;
}

/* Pinners. */

/*
 * Whatever the mapper did since, a session's pages are still held: a pin
 * reports dma-pinned (but for the zero page, which pins leave alone), and
 * every page has a reference, except the zero page under a pin, which
 * takes none since v6.5.
 */
static bool session_ok(struct pinner *p, const struct held *h,
		       const char *when)
{
	const struct gup_page_state *ps;
	bool pin = api_pins(h->api), zero;
	__u64 i;
	int ret;

	ret = gup_state(p->fd, h->id, 0, p->ps, h->nr_pages);
	bump(C_QUERY);
	if (ret) {
		fail("%s: query of session %u (%llu pages): %s", when, h->id,
		     (unsigned long long)h->nr_pages, strerror(-ret));
		return false;
	}
	for (i = 0; i < h->nr_pages; i++) {
		ps = &p->ps[i];
		zero = ps->flags & GUP_PS_ZERO_PAGE;
		if (pin && !zero && !(ps->flags & GUP_PS_MAYBE_DMA_PINNED)) {
			fail("%s: %s %#x: page %llu (pfn %#llx) not pinned",
			     when, api_name(h->api), h->flags,
			     (unsigned long long)i,
			     (unsigned long long)ps->pfn);
			return false;
		}
		if (!(pin && zero) && ps->refcount < 1) {
			fail("%s: %s %#x: page %llu (pfn %#llx) refcount %d",
			     when, api_name(h->api), h->flags,
			     (unsigned long long)i,
			     (unsigned long long)ps->pfn, ps->refcount);
			return false;
		}
	}
	return true;
}

/*
 * The device reads any session and writes only those pinned for write;
 * every page stays pinned whatever happened to the mapping, so an in-range
 * request must succeed.
 */
static void dma_check(struct pinner *p, const struct held *h)
{
	__u64 bytes = h->nr_pages * page_size;
	__u64 len = 1 + below(&p->rng, bytes < DMA_MAX ? bytes : DMA_MAX);
	__u64 off = below(&p->rng, bytes - len + 1);
	bool write = h->flags & GUP_PIN_WRITE;
	int ret;

	ret = gup_dma(p->fd, h->id, GUP_DMA_FROM_PAGES, off, p->buf, len);
	if (ret) {
		fail("device read of session %u at %llu, %llu bytes: %s",
		     h->id, (unsigned long long)off, (unsigned long long)len,
		     strerror(-ret));
		return;
	}
	bump(C_DMA);
	memset(p->buf, (int)below(&p->rng, 256), len);
	ret = gup_dma(p->fd, h->id, GUP_DMA_TO_PAGES, off, p->buf, len);
	if (ret != (write ? 0 : -EPERM)) {
		fail("device write to session %u (%s %#x): %s, want %s",
		     h->id, api_name(h->api), h->flags, strerror(-ret),
		     write ? "success" : strerror(EPERM));
		return;
	}
	bump(write ? C_DMA : C_DMA_EPERM);
}

static void pinner_pin(struct pinner *p)
{
	unsigned int api = below(&p->rng, GUP_API_NR);
	unsigned int flags = pick_flags(&p->rng, api);
	struct gup_pin_session s;
	struct held *h;
	size_t size;
	char *addr;
	int ret;

	addr = pick_range(&p->rng, SMALL_PAGES, &size);
	pthread_rwlock_rdlock(&run.setup_lock);
	ret = pin_start(p->fd, addr, size, api, flags, &s);
	pthread_rwlock_unlock(&run.setup_lock);
	if (ret) {
		if (!gup_err_expected(ret))
			fail("%s flags %#x of slot %d + %#lx, %zu bytes: %s",
			     api_name(api), flags, slot_of(addr),
			     (unsigned long)(addr - slot_addr(slot_of(addr))),
			     size, strerror(-ret));
		bump(C_PIN_ERR);
		return;
	}
	bump(C_PIN);
	h = &p->held[p->nr_held++];
	h->id = s.id;
	h->api = api;
	h->flags = flags;
	h->nr_pages = s.nr_pages;
	if (!s.nr_pages || s.nr_pages > size / page_size) {
		fail("%s flags %#x pinned %llu pages of %zu", api_name(api),
		     flags, (unsigned long long)s.nr_pages, size / page_size);
		return;
	}
	if (session_ok(p, h, "after pin"))
		dma_check(p, h);
}

static void pinner_unpin(struct pinner *p, int i)
{
	struct held h = p->held[i];
	unsigned int how;
	int ret;

	p->held[i] = p->held[--p->nr_held];
	if (!stopping() && session_ok(p, &h, "before unpin"))
		dma_check(p, &h);
	how = pick_how(&p->rng, h.api, h.flags);
	ret = gup_unpin(p->fd, h.id, how);
	if (ret)
		fail("unpin of session %u (%s flags %#x) with way %u: %s",
		     h.id, api_name(h.api), h.flags, how, strerror(-ret));
	else
		bump(C_UNPIN);
}

static void *pinner_thread(void *arg)
{
	struct pinner *p = arg;

	while (!stopping()) {
		if (p->nr_held < MAX_HELD &&
		    (!p->nr_held || below(&p->rng, 2)))
			pinner_pin(p);
		else
			pinner_unpin(p, below(&p->rng, p->nr_held));
	}
	while (p->nr_held)
		pinner_unpin(p, p->nr_held - 1);
	return NULL;
}

/* The mapper. */

static bool reserve(char *addr, size_t size, int how)
{
	return mmap(addr, size, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | how,
		    -1, 0) == addr;
}

static const char *slot_kind_name(int i)
{
	return mem_type(run.mem[i].kind)->name;
}

static bool slot_hugetlb(int i)
{
	return mem_type(run.mem[i].kind)->props & MEM_P_HUGETLB;
}

/* The kinds a slot may be: all that fit, hugetlb only with pages to spare. */
/*
 * Not fsdax: a remap drops the last reference to a file while pins of its
 * pages live on, and before 6.15 the eviction that follows frees the
 * blocks under the pin with a WARNING (dax_pin's evict case tests that).
 */
static bool kind_wanted(int k)
{
	unsigned int props = mem_type(k)->props;

	return !(props & (MEM_P_WIDE | MEM_P_DAX)) &&
	       !((props & MEM_P_HUGETLB) && !run.hugetlb_max);
}

/* The reservation of a slot, with how MAP_FIXED or MAP_FIXED_NOREPLACE. */
static int reserve_slot(char *addr, int how)
{
	char *p = mmap(addr, SLOT_SIZE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | how,
		       -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	if (p != addr) {
		/* A kernel without MAP_FIXED_NOREPLACE took it as a hint. */
		munmap(p, SLOT_SIZE);
		return -EEXIST;
	}
	return 0;
}

/*
 * Makes slot i memory of kind: the old memory's files closed and its THP
 * setting put back, the slot reserved afresh, then the kind's set-up in
 * it. Returns 0; 1 if the kind could not be had (the tally says why);
 * -errno if the slot could not be reserved.
 */
static int map_slot(int i, enum mem_kind kind, int how)
{
	struct kind_tally *t = &run.tally[kind];
	char *addr = slot_addr(i);
	int ret;

	/* It may open a file too: putting a THP setting back. */
	pthread_rwlock_wrlock(&run.setup_lock);
	mem_teardown(&run.mem[i]);
	run.mem[i].kind = MEM_ANON;
	pthread_rwlock_unlock(&run.setup_lock);
	ret = reserve_slot(addr, how);
	if (!ret) {
		pthread_rwlock_wrlock(&run.setup_lock);
		ret = mem_setup_at(&run.mem[i], kind, slot_pages(), addr,
				   t->why, sizeof(t->why));
		if (ret) {
			mem_teardown(&run.mem[i]);
			run.mem[i].kind = MEM_ANON;
			if (ret == KSFT_SKIP)
				t->missing = true;
			else
				t->failed++;
			ret = 1;
		} else {
			t->mapped++;
		}
		pthread_rwlock_unlock(&run.setup_lock);
	}
	return ret;
}

/*
 * Whether slot may become kind now: hugetlb while pages are to spare, and
 * one anonymous multi-size THP slot at a time, since each sets its size to
 * "always" for the while and another's larger size would take its faults.
 */
static bool kind_allowed(enum mem_kind kind, int slot)
{
	bool hugetlb = mem_type(kind)->props & MEM_P_HUGETLB;
	int i, huge = 0;

	if (!kind_wanted(kind) || run.tally[kind].missing)
		return false;
	for (i = 0; i < NR_SLOTS; i++) {
		if (i == slot)
			continue;
		if (mem_is_mthp(kind) && mem_is_mthp(run.mem[i].kind))
			return false;
		huge += slot_hugetlb(i);
	}
	return !hugetlb || huge < run.hugetlb_max;
}

/*
 * Kinds are dealt like cards: every kind once per round, in a shuffled
 * order, the first one allowed now; while none left in the round is, any
 * kind allowed now. Each kind then comes round every few dozen remaps,
 * however slow the kernel.
 */
static enum mem_kind pick_kind(unsigned long long *rng, int slot)
{
	enum mem_kind kind, now[MEM_KINDS];
	int i, j;

	if (!run.deck_left) {
		for (i = 0; i < MEM_KINDS; i++)
			if (kind_wanted(i) && !run.tally[i].missing)
				run.deck[run.deck_left++] = i;
		for (i = run.deck_left - 1; i > 0; i--) {
			j = below(rng, i + 1);
			kind = run.deck[i];
			run.deck[i] = run.deck[j];
			run.deck[j] = kind;
		}
	}
	for (i = 0; i < run.deck_left; i++) {
		kind = run.deck[i];
		if (!kind_allowed(kind, slot))
			continue;
		for (j = i + 1; j < run.deck_left; j++)
			run.deck[j - 1] = run.deck[j];
		run.deck_left--;
		return kind;
	}
	for (i = 0, j = 0; i < MEM_KINDS; i++)
		if (kind_allowed(i, slot))
			now[j++] = i;
	/* Anonymous memory is always allowed. */
	return now[below(rng, j)];
}

/*
 * Replaces a slot with fresh memory of some kind: half the time through an
 * munmap() that leaves a hole for a moment, half the time in place with
 * MAP_FIXED. Pins of the old memory keep its pages.
 */
static void mapper_remap(unsigned long long *rng, int i)
{
	char *addr = slot_addr(i);
	int how = MAP_FIXED, ret;

	if (below(rng, 2)) {
		if (munmap(addr, SLOT_SIZE)) {
			fail("munmap of slot %d: %s", i, strerror(errno));
			return;
		}
		bump(C_MUNMAP);
		sched_yield();
		/* NOREPLACE: a tripwire for anything mapped into the hole. */
		how = MAP_FIXED_NOREPLACE;
	}
	ret = map_slot(i, pick_kind(rng, i), how);
	if (ret == -EEXIST) {
		fail("slot %d: another mapping took its hole", i);
		return;
	}
	if (ret > 0) {
		/* No free hugetlb page, typically; anonymous memory must do. */
		bump(C_MAP_FALLBACK);
		ret = map_slot(i, MEM_ANON, MAP_FIXED);
	}
	if (ret) {
		fail("anonymous memory into slot %d: %s", i,
		     ret > 0 ? run.tally[MEM_ANON].why : strerror(-ret));
		return;
	}
	if (slot_hugetlb(i))
		bump(C_HUGETLB_MAP);
	bump(C_REMAP);
}

/*
 * Moves a slot's mapping to the spare slot and back, leaving a hole where
 * it was in between. A move the kernel refuses (older kernels move one VMA
 * at a time) is counted, not failed; one back it just allowed must work.
 */
static void mapper_mremap(unsigned long long *rng, int i)
{
	char *addr = slot_addr(i), *spare = slot_addr(SPARE);
	void *p;

	/* One protection over the slot lets its VMAs merge into one. */
	mprotect(addr, SLOT_SIZE, PROT_READ | PROT_WRITE);
	p = mremap(addr, SLOT_SIZE, SLOT_SIZE,
		   MREMAP_MAYMOVE | MREMAP_FIXED, spare);
	if (p == MAP_FAILED) {
		bump(C_MREMAP_ERR);
		return;
	}
	if (below(rng, 2))
		sched_yield();
	p = mremap(spare, SLOT_SIZE, SLOT_SIZE,
		   MREMAP_MAYMOVE | MREMAP_FIXED, addr);
	if (p == MAP_FAILED) {
		fail("mremap of slot %d (%s) back from the spare: %s", i,
		     slot_kind_name(i), strerror(errno));
		return;
	}
	if (!reserve(spare, SLOT_SIZE, MAP_FIXED_NOREPLACE)) {
		fail("cannot reserve the spare slot again: %s",
		     strerror(errno));
		return;
	}
	bump(C_MREMAP);
}

/* A page range of a slot; all of it for hugetlb, which takes no less. */
static void pick_sub(unsigned long long *rng, int i, size_t *off,
		     size_t *len)
{
	size_t pages = slot_pages(), n;

	*off = 0;
	*len = SLOT_SIZE;
	if (slot_hugetlb(i))
		return;
	n = 1 + below(rng, pages);
	*off = below(rng, pages - n + 1) * page_size;
	*len = n * page_size;
}

static void mapper_madvise(unsigned long long *rng, int i)
{
	size_t off, len;

	pick_sub(rng, i, &off, &len);
	if (madvise(slot_addr(i) + off, len, MADV_DONTNEED)) {
		fail("MADV_DONTNEED of slot %d (%s) + %#zx, %#zx bytes: %s",
		     i, slot_kind_name(i), off, len, strerror(errno));
		return;
	}
	bump(C_MADVISE);
}

static void mapper_mprotect(unsigned long long *rng, int i)
{
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE,
		PROT_READ | PROT_WRITE,
	};
	int prot = prots[below(rng, ARRAY_SIZE(prots))];
	size_t off, len;

	pick_sub(rng, i, &off, &len);
	if (mprotect(slot_addr(i) + off, len, prot)) {
		fail("mprotect(%#x) of slot %d (%s) + %#zx, %#zx bytes: %s",
		     prot, i, slot_kind_name(i), off, len,
		     strerror(errno));
		return;
	}
	bump(C_MPROTECT);
}

static void *mapper_thread(void *arg)
{
	unsigned long long rng = *(unsigned long long *)arg;
	int i;

	while (!stopping()) {
		i = below(&rng, NR_SLOTS);
		switch (below(&rng, 8)) {
		case 0:
		case 1:
		case 2:
			mapper_remap(&rng, i);
			break;
		case 3:
			mapper_mremap(&rng, i);
			break;
		case 4:
		case 5:
			mapper_madvise(&rng, i);
			break;
		default:
			mapper_mprotect(&rng, i);
			break;
		}
		/* Let the pinners meet each state for a while. */
		usleep(below(&rng, 1000));
	}
	return NULL;
}

/* The forker and its children. */

/*
 * Writes some slot pages of the child's own copy of the address space:
 * copy-on-write of what the parent has pinned. Through /proc/self/mem,
 * which fails on a hole or PROT_NONE where a store would SIGSEGV: the
 * mapper may be anywhere in its work when the fork copies the slots.
 * Only async-signal-safe calls: the parent has threads.
 */
static void cow_child(unsigned long long rng)
{
	int fd = open("/proc/self/mem", O_RDWR);
	size_t size;
	char *addr;
	int i;

	for (i = 0; fd >= 0 && i < COW_WRITES; i++) {
		addr = pick_range(&rng, SMALL_PAGES, &size);
		if (size > PATTERN_SIZE)
			size = PATTERN_SIZE;
		if (pwrite(fd, run.pattern, size, (off_t)(uintptr_t)addr) < 0)
			continue;
	}
	_exit(0);
}

/*
 * Pins some slot pages through a file of its own, tells the parent, then
 * sleeps or runs GUP_BENCH until the parent SIGKILLs it: its pins are the
 * kernel's to release when the file closes. Async-signal-safe calls only.
 */
static void pin_child(unsigned long long rng, bool bench, pid_t parent)
{
	const struct timespec ms = { .tv_nsec = 1000000 };
	struct gup_pin_session s;
	struct gup_bench b;
	int fd, i, ret, held = 0;
	unsigned int api;
	size_t size;
	char *addr;

	/* Not to outlive a parent that dies in the middle. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	fd = open(run.dev, O_RDWR);
	if (fd < 0)
		atomic_store(&run.child->err, -errno);
	for (i = 0; fd >= 0 && i < CHILD_PINS; i++) {
		api = below(&rng, GUP_API_NR);
		addr = pick_range(&rng, SMALL_PAGES, &size);
		ret = pin_start(fd, addr, size, api, pick_flags(&rng, api),
				&s);
		if (!ret)
			held++;
		else if (!gup_err_expected(ret))
			atomic_store(&run.child->err, ret);
	}
	atomic_store(&run.child->state, held ? CHILD_HOLDING : CHILD_READY);

	api = below(&rng, GUP_API_NR);
	memset(&b, 0, sizeof(b));
	b.addr = (uintptr_t)slot_addr(below(&rng, NR_SLOTS));
	b.size = SLOT_SIZE;
	b.api = api;
	b.flags = pick_flags(&rng, api);
	b.nr_pages_per_call = 1 + below(&rng, 16);
	for (;;) {
		if (!bench || fd < 0) {
			pause();
			continue;
		}
		ret = ioctl(fd, GUP_BENCH, &b) ? -errno : 0;
		if (ret && !gup_err_expected(ret))
			atomic_store(&run.child->err, ret);
		if (ret)
			nanosleep(&ms, NULL);
	}
}

/* fork() may fail for want of memory (copies of pinned pages); not else. */
static void fork_failed(void)
{
	if (errno != EAGAIN && errno != ENOMEM) {
		fail("fork: %s", strerror(errno));
		return;
	}
	bump(C_FORK_ERR);
	usleep(10000);
}

/*
 * fork() under setup_lock: it makes the slots' pages copy-on-write, which
 * the next write replaces. The child leaves the lock alone.
 */
static pid_t locked_fork(void)
{
	int err;
	pid_t pid;

	pthread_rwlock_rdlock(&run.setup_lock);
	pid = fork();
	err = errno;
	if (pid)
		pthread_rwlock_unlock(&run.setup_lock);
	errno = err;
	return pid;
}

static void fork_cow_child(unsigned long long *rng)
{
	unsigned long long child_rng = rnd(rng) | 1;
	int status;
	pid_t pid;

	pid = locked_fork();
	if (pid < 0) {
		fork_failed();
		return;
	}
	if (!pid)
		cow_child(child_rng);
	bump(C_FORK);
	if (waitpid(pid, &status, 0) != pid) {
		fail("waitpid of cow child %d: %s", pid, strerror(errno));
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail("cow child ended with status %#x", status);
		return;
	}
	bump(C_COW_CHILD);
}

/* Milliseconds since t0, on the monotonic clock. */
static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void fork_pin_child(unsigned long long *rng)
{
	unsigned long long child_rng = rnd(rng) | 1;
	bool bench = below(rng, 2);
	pid_t pid, parent = getpid();
	int status, state, err;
	struct timespec t0;

	atomic_store(&run.child->state, CHILD_STARTING);
	atomic_store(&run.child->err, 0);
	pid = locked_fork();
	if (pid < 0) {
		fork_failed();
		return;
	}
	if (!pid)
		pin_child(child_rng, bench, parent);
	bump(C_FORK);
	bump(C_PIN_CHILD);
	/* Mostly once it holds its pins, now and then while it takes them. */
	if (below(rng, 4)) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (!stopping() && ms_since(&t0) < READY_WAIT_MS &&
		       atomic_load(&run.child->state) == CHILD_STARTING)
			usleep(1000);
		/* Into its GUP_BENCH, if it runs one. */
		usleep(below(rng, 5000));
	}
	state = atomic_load(&run.child->state);
	if (kill(pid, SIGKILL))
		fail("kill of pin child %d: %s", pid, strerror(errno));
	if (waitpid(pid, &status, 0) != pid) {
		fail("waitpid of pin child %d: %s", pid, strerror(errno));
		return;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		fail("pin child ended with status %#x, not by SIGKILL", status);
		return;
	}
	err = atomic_load(&run.child->err);
	if (err) {
		fail("pin child: %s", strerror(-err));
		return;
	}
	bump(C_KILL);
	if (state == CHILD_HOLDING)
		bump(C_KILL_HOLDING);
	if (bench && state != CHILD_STARTING)
		bump(C_KILL_BENCH);
}

static void *forker_thread(void *arg)
{
	unsigned long long rng = *(unsigned long long *)arg;

	while (!stopping()) {
		if (!below(&rng, 3))
			fork_cow_child(&rng);
		else
			fork_pin_child(&rng);
		usleep(below(&rng, 5000));
	}
	return NULL;
}

/* The stop race: two GUP_PIN_STOPs of one session at once. */

static void *stop_partner(void *arg)
{
	struct race *r = arg;

	for (;;) {
		pthread_barrier_wait(&r->barrier);
		if (r->quit)
			return NULL;
		r->ret = gup_unpin(run.fd_shared, r->id, r->how);
		pthread_barrier_wait(&r->barrier);
	}
}

/*
 * The file's lock orders the two: one releases the session, the other
 * finds no session of that id, which is -EINVAL (pin_stop()). Ids are
 * given cyclically, so none is reused for another session in between.
 */
static void *stop_race_thread(void *arg)
{
	struct race *r = arg;
	struct gup_pin_session s;
	unsigned int api, flags;
	pthread_t partner;
	size_t size;
	char *addr;
	int ret;

	if (pthread_create(&partner, NULL, stop_partner, r)) {
		fail("pthread_create of the stop race partner");
		return NULL;
	}
	while (!stopping()) {
		api = below(&r->rng, GUP_API_NR);
		flags = pick_flags(&r->rng, api);
		addr = pick_range(&r->rng, 4, &size);
		pthread_rwlock_rdlock(&run.setup_lock);
		ret = pin_start(run.fd_shared, addr, size, api, flags, &s);
		pthread_rwlock_unlock(&run.setup_lock);
		if (ret) {
			if (!gup_err_expected(ret))
				fail("stop race: %s flags %#x: %s",
				     api_name(api), flags, strerror(-ret));
			continue;
		}
		r->id = s.id;
		r->how = pick_how(&r->rng, api, flags);
		pthread_barrier_wait(&r->barrier);
		ret = gup_unpin(run.fd_shared, r->id, r->how);
		pthread_barrier_wait(&r->barrier);
		if (!((!ret && r->ret == -EINVAL) ||
		      (ret == -EINVAL && !r->ret))) {
			fail("two GUP_PIN_STOPs of %u: \"%s\", \"%s\"",
			     r->id, strerror(-ret), strerror(-r->ret));
			continue;
		}
		bump(C_STOP_RACE);
	}
	r->quit = true;
	pthread_barrier_wait(&r->barrier);
	pthread_join(partner, NULL);
	return NULL;
}

/*
 * The dup race: close() of a dup'ed fd while an ioctl on it runs. The
 * ioctl holds its own reference to the file, so it runs to its end; or
 * the close came first and it gets -EBADF, having done nothing. The dup is
 * of the shared file, or now and then the last fd of a file of its own,
 * which the ioctl's reference then releases. The mapper, the one other
 * thread that opens files, waits on setup_lock meanwhile: the number is
 * not reused under the ioctl.
 */
static void *dup_partner(void *arg)
{
	struct race *r = arg;

	for (;;) {
		pthread_barrier_wait(&r->barrier);
		if (r->quit)
			return NULL;
		if (r->delay_us)
			usleep(r->delay_us);
		r->ret = close(r->fd) ? -errno : 0;
		pthread_barrier_wait(&r->barrier);
	}
}

/*
 * A session started through a dup of the shared file belongs to the file,
 * not to the fd: it outlives the dup. Stop it through the original, or now
 * and then leave it to the last close at the end.
 */
static void dup_session(unsigned long long *rng, struct gup_pin_session *s,
			size_t size)
{
	unsigned int how;
	int ret;

	if (!s->nr_pages || s->nr_pages > size / page_size) {
		fail("dup race: pinned %llu pages of %zu",
		     (unsigned long long)s->nr_pages, size / page_size);
		return;
	}
	if (atomic_load(&run.count[C_DUP_LEFT]) < DUP_LEFT_MAX &&
	    !below(rng, 4)) {
		bump(C_DUP_LEFT);
		return;
	}
	how = pick_how(rng, s->api, s->flags);
	ret = gup_unpin(run.fd_shared, s->id, how);
	if (ret)
		fail("dup race: stop of session %u through the original fd: %s",
		     s->id, strerror(-ret));
}

static void *dup_race_thread(void *arg)
{
	struct race *r = arg;
	struct gup_pin_session s;
	struct gup_bench b;
	pthread_t partner;
	unsigned int api;
	bool bench, last;
	int ret, from;
	size_t size;
	char *addr;

	if (pthread_create(&partner, NULL, dup_partner, r)) {
		fail("pthread_create of the dup race partner");
		return NULL;
	}
	while (!stopping()) {
		last = !below(&r->rng, 4);
		from = last ? gup_open() : run.fd_shared;
		if (from < 0) {
			fail("open gup_test: %s", strerror(-from));
			break;
		}
		r->fd = dup(from);
		if (r->fd < 0) {
			fail("dup: %s", strerror(errno));
			if (last)
				close(from);
			break;
		}
		if (last)
			close(from);
		r->delay_us = below(&r->rng, 2) ? below(&r->rng, 2000) : 0;
		bench = below(&r->rng, 2);
		api = below(&r->rng, GUP_API_NR);
		addr = pick_range(&r->rng, bench ? slot_pages() : 4, &size);
		memset(&s, 0, sizeof(s));
		s.addr = (uintptr_t)addr;
		s.size = size;
		s.api = api;
		s.flags = pick_flags(&r->rng, api);
		memset(&b, 0, sizeof(b));
		b.addr = s.addr;
		b.size = s.size;
		b.api = s.api;
		b.flags = s.flags;
		b.nr_pages_per_call = 1 + below(&r->rng, 64);

		/* No new fd may take r->fd's number between close and ioctl. */
		pthread_rwlock_rdlock(&run.setup_lock);
		pthread_barrier_wait(&r->barrier);
		if (bench)
			ret = ioctl(r->fd, GUP_BENCH, &b) ? -errno : 0;
		else
			ret = ioctl(r->fd, GUP_PIN_START, &s) ? -errno : 0;
		pthread_barrier_wait(&r->barrier);
		pthread_rwlock_unlock(&run.setup_lock);

		if (r->ret)
			fail("close of the dup: %s", strerror(-r->ret));
		else if (ret == -EBADF)
			bump(C_DUP_EBADF);
		else if (ret && !gup_err_expected(ret))
			fail("dup race: %s %s flags %#x: %s",
			     bench ? "GUP_BENCH" : "GUP_PIN_START",
			     api_name(api), s.flags, strerror(-ret));
		else if (!ret && !bench && !last)
			dup_session(&r->rng, &s, size);
		bump(last ? C_DUP_LAST : C_DUP_RACE);
	}
	r->quit = true;
	pthread_barrier_wait(&r->barrier);
	pthread_join(partner, NULL);
	return NULL;
}

/* Set-up and the test. */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Whether ZONE_MOVABLE has pages (the kernel was booted with movablecore=). */
static bool movable_zone_present(void)
{
	bool movable = false, found = false;
	char line[256];
	long present;
	FILE *f;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Node", 4))
			movable = strstr(line, "Movable");
		else if (movable && sscanf(line, " present %ld", &present) == 1)
			found = present > 0;
	}
	fclose(f);
	return found;
}

/*
 * The slots' area, far below where the kernel places mmap(NULL): top-down
 * it takes the highest gap that fits, bottom-up the lowest one above
 * TASK_SIZE / 3. Nothing else of this process (malloc, thread stacks) can
 * then land in a slot while it is unmapped, where a pin, and a DMA write
 * through it, would reach the program's own memory.
 */
static char *reserve_area(void)
{
	static const unsigned long long hints[] = {
		1ULL << 44, 1ULL << 40, 1ULL << 36,
	};
	unsigned int i;
	char *addr;

	for (i = 0; i < ARRAY_SIZE(hints); i++) {
		if (hints[i] + AREA_SIZE > UINTPTR_MAX)
			continue;
		addr = (char *)(uintptr_t)hints[i];
		if (reserve(addr, AREA_SIZE, MAP_FIXED_NOREPLACE))
			return addr;
	}
	return NULL;
}

static int env_seconds(void)
{
	const char *env = getenv("GUP_STRESS_SECONDS");
	char *end;
	long val;

	if (!env)
		return DEFAULT_SECONDS;
	errno = 0;
	val = strtol(env, &end, 10);
	if (errno || end == env || *end || val < 1 || val > MAX_SECONDS)
		return -1;
	return val;
}

static bool env_seed(unsigned int *seed)
{
	const char *env = getenv("GUP_STRESS_SEED");
	unsigned long val;
	char *end;

	if (!env) {
		*seed = time(NULL) ^ getpid();
		return true;
	}
	errno = 0;
	val = strtoul(env, &end, 0);
	if (errno || end == env || *end || val > UINT_MAX)
		return false;
	*seed = val;
	return true;
}

FIXTURE(stress)
{
	int fd;
	int nr_fds;
	struct pin_ledger before;
};

FIXTURE_SETUP(stress)
{
	self->fd = -1;
	self->nr_fds = count_fds();
	/* Its probes pin: done before the ledger, not counted in it. */
	kernel_expect();
	pin_ledger_read(&self->before);
	self->fd = gup_open();
	if (gup_open_skip(self->fd))
		SETUP_SKIP(return, "%s", gup_open_skip(self->fd));
	ASSERT_LE(0, self->fd) TH_LOG("open gup_test: %s",
				      strerror(-self->fd));
	if (geteuid()) {
		close(self->fd);
		self->fd = -1;
		SETUP_SKIP(return, "needs root: SIGKILLs, /proc/sys/vm/stat_refresh");
	}
}

FIXTURE_TEARDOWN(stress)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* The slots, each mapped as some kind to start with. */
static void setup_memory(struct __test_metadata *_metadata)
{
	const int writer_first = PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
	unsigned long long rng = thread_rng(NR_PINNERS + 4);
	pthread_rwlockattr_t attr;
	int i, ret;

	/* A writer first: five readers come back faster than one writer. */
	ASSERT_EQ(0, pthread_rwlockattr_init(&attr));
	ASSERT_EQ(0, pthread_rwlockattr_setkind_np(&attr, writer_first));
	ASSERT_EQ(0, pthread_rwlock_init(&run.setup_lock, &attr));
	pthread_rwlockattr_destroy(&attr);
	for (i = 0; i < NR_SLOTS; i++) {
		run.mem[i].fd = -1;
		run.mem[i].kind = MEM_ANON;
	}
	run.area = reserve_area();
	ASSERT_NE(NULL, run.area)
		TH_LOG("no room for the slots far below mmap_base: %s",
		       strerror(errno));
	for (i = 0; i < NR_SLOTS; i++) {
		ret = map_slot(i, pick_kind(&rng, i), MAP_FIXED);
		if (ret > 0)
			ret = map_slot(i, MEM_ANON, MAP_FIXED);
		ASSERT_EQ(0, ret) TH_LOG("anonymous memory into slot %d: %s",
					 i, ret > 0 ? run.tally[MEM_ANON].why :
					 strerror(-ret));
	}

	run.child = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, run.child);
	run.pattern = malloc(PATTERN_SIZE);
	ASSERT_NE(NULL, run.pattern);
	memset(run.pattern, 0x5a, PATTERN_SIZE);
}

/*
 * What the mapper made of each kind. Every kind a slot may be must have
 * been mapped, unless the kernel lacks it: a set-up that always fails is a
 * failure. Returns how many kinds were never mapped.
 */
static int report_kinds(void)
{
	const struct kind_tally *t;
	int k, never = 0;

	for (k = 0; k < MEM_KINDS; k++) {
		t = &run.tally[k];
		if (!kind_wanted(k))
			continue;
		if (t->missing && !t->mapped) {
			ksft_print_msg("%-18s skipped: %s\n", mem_type(k)->name,
				       t->why);
			continue;
		}
		ksft_print_msg("%-18s %ld mapped, %ld not to be had%s%s\n",
			       mem_type(k)->name, t->mapped, t->failed,
			       t->failed ? ": " : "", t->failed ? t->why : "");
		never += !t->mapped;
	}
	return never;
}

/*
 * Hugetlb slots only with pages to spare: pins keep unmapped hugetlb pages
 * out of the pool, and children's copies of pinned ones take more. Not at
 * all where FOLL_LONGTERM of a hugetlb page in ZONE_MOVABLE WARNs.
 */
static int hugetlb_slots(long long free)
{
	if (kernel_expect()->longterm_movable_hugetlb_warns &&
	    movable_zone_present()) {
		ksft_print_msg("no hugetlb slots: %s\n",
			       "long-term pins of them in ZONE_MOVABLE WARN");
		return 0;
	}
	if (free >= 32)
		return 2;
	return free > 0 ? 1 : 0;
}

TEST_F_TIMEOUT(stress, races, MAX_SECONDS + 60)
{
	struct pinner pinners[NR_PINNERS] = {};
	unsigned long long mapper_rng, forker_rng;
	pthread_t mapper, forker, stopper, duper;
	bool started[4] = {};
	int i, seconds, nr_started = 0, children, unmapped, never;
	struct timespec t0;
	char why[512] = "";

	SETUP_SKIPPED(return);
	seconds = env_seconds();
	ASSERT_LT(0, seconds)
		TH_LOG("GUP_STRESS_SECONDS must be 1..%d", MAX_SECONDS);
	ASSERT_TRUE(env_seed(&run.seed))
		TH_LOG("GUP_STRESS_SEED must be an unsigned int");
	ksft_print_msg("%d s, seed %u (GUP_STRESS_SEED)\n", seconds, run.seed);
	ksft_print_msg("a seed repeats the choices, not the races' timing\n");
	/* The harness's test process ends with _exit(): no stdio flush. */
	fflush(stdout);

	gup_test_path(run.dev, sizeof(run.dev));
	run.fd_shared = self->fd;
	run.fd_own = gup_open();
	ASSERT_LE(0, run.fd_own)
		TH_LOG("open gup_test: %s", strerror(-run.fd_own));
	run.hugetlb_max = hugetlb_slots(self->before.hugetlb_free);
	setup_memory(_metadata);
	ksft_print_msg("%d slots; hugetlb in %d at most (%lld pages free)\n",
		       NR_SLOTS, run.hugetlb_max, self->before.hugetlb_free);
	fflush(stdout);

	for (i = 0; i < NR_PINNERS; i++) {
		pinners[i].fd = i < NR_PINNERS - 1 ? run.fd_shared : run.fd_own;
		pinners[i].rng = thread_rng(i);
		pinners[i].ps = calloc(slot_pages(), sizeof(*pinners[i].ps));
		pinners[i].buf = malloc(DMA_MAX);
		ASSERT_TRUE(pinners[i].ps && pinners[i].buf);
	}
	mapper_rng = thread_rng(NR_PINNERS);
	forker_rng = thread_rng(NR_PINNERS + 1);
	run.stop_race.rng = thread_rng(NR_PINNERS + 2);
	run.dup_race.rng = thread_rng(NR_PINNERS + 3);
	ASSERT_EQ(0, pthread_barrier_init(&run.stop_race.barrier, NULL, 2));
	ASSERT_EQ(0, pthread_barrier_init(&run.dup_race.barrier, NULL, 2));

	/* From here on, no ASSERT until every thread is joined. */
	for (i = 0; i < NR_PINNERS; i++) {
		if (pthread_create(&pinners[i].thread, NULL, pinner_thread,
				   &pinners[i]))
			break;
	}
	nr_started = i;
	if (nr_started == NR_PINNERS) {
		started[0] = !pthread_create(&mapper, NULL, mapper_thread,
					     &mapper_rng);
		started[1] = !pthread_create(&forker, NULL, forker_thread,
					     &forker_rng);
		started[2] = !pthread_create(&stopper, NULL, stop_race_thread,
					     &run.stop_race);
		started[3] = !pthread_create(&duper, NULL, dup_race_thread,
					     &run.dup_race);
	}
	if (nr_started < NR_PINNERS || !started[0] || !started[1] ||
	    !started[2] || !started[3])
		fail("pthread_create failed");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stopping() && ms_since(&t0) < seconds * 1000L)
		usleep(100000);
	atomic_store(&run.stop, true);

	for (i = 0; i < nr_started; i++)
		pthread_join(pinners[i].thread, NULL);
	if (started[0])
		pthread_join(mapper, NULL);
	if (started[1])
		pthread_join(forker, NULL);
	if (started[2])
		pthread_join(stopper, NULL);
	if (started[3])
		pthread_join(duper, NULL);

	/* Release everything before judging anything. */
	close(run.fd_own);
	close(run.fd_shared);
	self->fd = -1;
	unmapped = munmap(run.area, AREA_SIZE) ? errno : 0;
	for (i = 0; i < NR_SLOTS; i++)
		mem_teardown(&run.mem[i]);
	munmap(run.child, page_size);
	free(run.pattern);
	for (i = 0; i < NR_PINNERS; i++) {
		free(pinners[i].ps);
		free(pinners[i].buf);
	}
	pthread_barrier_destroy(&run.stop_race.barrier);
	pthread_barrier_destroy(&run.dup_race.barrier);
	children = waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD;

	for (i = 0; i < C_NR; i++)
		ksft_print_msg("%-32s %ld\n", counters[i].name,
			       atomic_load(&run.count[i]));
	never = report_kinds();
	fflush(stdout);

	EXPECT_EQ(0, run.failures)
		TH_LOG("%d failures, the first: %s", run.failures, run.why);
	EXPECT_EQ(0, unmapped) TH_LOG("munmap of the slots: %s",
				      strerror(unmapped));
	EXPECT_FALSE(children) TH_LOG("a child was left unreaped");
	EXPECT_EQ(self->nr_fds, count_fds()) TH_LOG("fds left open");
	ASSERT_EQ(0, pin_ledger_check(&self->before, why, sizeof(why)))
		TH_LOG("%s", why);
	/* A failure ends the run early: what did not happen then is moot. */
	EXPECT_TRUE(run.failures || !never)
		TH_LOG("%d memory kinds never mapped in %d s", never, seconds);
	for (i = 0; i < C_NR && !run.failures; i++) {
		if (!counters[i].must)
			continue;
		EXPECT_LT(0, atomic_load(&run.count[i]))
			TH_LOG("no %s in %d s", counters[i].name, seconds);
	}
}

TEST_HARNESS_MAIN
