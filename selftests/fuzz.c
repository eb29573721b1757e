// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded ioctl fuzzer for the gup_test device: every command number, right
 * and wrong argument sizes, argument structs that mix meaningful, boundary
 * and random values, addresses of every memory type of the suite plus
 * PROT_NONE, read-only, holes and kernel addresses, over several open files.
 *
 * It keeps a model of what the module holds: the sessions of each file and
 * the pins they count in nr_foll_pin_acquired/released. Each result is
 * checked against it where the model can tell (an unknown command is
 * -ENOTTY, a stop of a known session with a valid way succeeds, a stop of
 * anything else is -EINVAL, no command fails with an errno outside its set),
 * and the pins the kernel counts as held are compared with the model every
 * CHECK_EVERY calls. At the end every file is closed and the pin ledger
 * (gup_util.h) must balance. The kernel log is the runner's to judge.
 *
 * GUP_FUZZ_SEED repeats a run (the seed is printed); GUP_FUZZ_IOCTLS sets
 * the number of calls (default 100000).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "setup_skip.h"
#include "gup_util.h"

#define NR_IOCTLS	100000
#define CHECK_EVERY	1000
#define NR_FDS		4
#define MAX_SESSIONS	256
#define SLOT_SIZE	(2 * huge_size())	/* a region, then a hole */
#define REGION_PAGES	16
#define SCRATCH_SIZE	huge_size()

/*
 * The regions: one of each memory kind (gup_util.h) that a huge page's
 * room holds, then what no memory kind is.
 */
enum region_kind {
	R_NONE = MEM_KINDS,	/* PROT_NONE */
	R_RO,			/* written, then read-only */
	R_HOLE,			/* nothing mapped */
	R_SCRATCH,		/* where the module may write what it returns */
	R_NR,
};

static const char * const extra_names[R_NR - MEM_KINDS] = {
	"PROT_NONE", "read-only", "hole", "scratch",
};

static const char *region_name(int k)
{
	return k < MEM_KINDS ? mem_type(k)->name : extra_names[k - MEM_KINDS];
}

struct region {
	char *addr;
	size_t size;	/* 0: not mapped */
	struct mem mem;	/* of a memory kind's region */
};

struct session {
	__u32 id;
	__u32 api;
	__u32 flags;
	long long pins;	/* what it counts in nr_foll_pin_acquired */
};

/* An open file of the device; dup()ed fds share one. */
struct gup_file {
	int nr_fds;
	struct session sessions[MAX_SESSIONS];
	int nr_sessions;
	long long longterm_pins;	/* -1: no long-term test running */
	__u32 last_id;
};

struct fuzzer {
	__u64 rng;
	char *area;
	size_t area_size;
	struct region r[R_NR];
	int arg_fd;
	/* One page seen twice: written through rw, passed read-only. */
	char *arg_rw, *arg_ro;
	int fds[NR_FDS];
	struct gup_file *file_of[NR_FDS];
	long long held;		/* pins the model says are held */
	long long acq0, rel0;
	unsigned long calls, ok, unknown_cmds, arg_faults, sessions;
	long long max_held;
	unsigned long errs[160];
};

static __u64 rnd(struct fuzzer *f)
{
	/* xorshift64* */
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545f4914f6cdd1dULL;
}

static __u64 below(struct fuzzer *f, __u64 n)
{
	return n ? rnd(f) % n : 0;
}

static bool one_in(struct fuzzer *f, unsigned int n)
{
	return below(f, n) == 0;
}

static __u64 boundary(struct fuzzer *f)
{
	static const __u64 vals[] = {
		0, 1, 2, 4095, 4096, 4097, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ULL, 1ULL << 20, (1ULL << 20) + 1, 1ULL << 32 << 12,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, ~0ULL - 4095,
	};

	return vals[below(f, ARRAY_SIZE(vals))];
}

/* An address: in a region, at its edges, or one no user page can have. */
static __u64 pick_addr(struct fuzzer *f)
{
	static const __u64 wild[] = {
		0, 4096, 0x00007ffffffff000ULL, 0x0000800000000000ULL,
		0xffff888000000000ULL, 0xffffffff81000000ULL,
		0xfffffffffffff000ULL, 0x8000000000000000ULL,
	};
	struct region *r;
	__u64 off;

	switch (below(f, 10)) {
	case 0:
		return wild[below(f, ARRAY_SIZE(wild))];
	case 1:
		return rnd(f);
	default:
		break;
	}
	r = &f->r[below(f, R_NR)];
	off = below(f, (r->size ? r->size : huge_size()) / page_size + 1);
	off *= page_size;
	if (one_in(f, 16))
		off += below(f, page_size);	/* unaligned */
	return (uintptr_t)r->addr + off;
}

static __u64 pick_size(struct fuzzer *f)
{
	switch (below(f, 8)) {
	case 0:
		return boundary(f);
	case 1:
		return rnd(f);
	case 2:
		return below(f, 2 * huge_size());	/* mostly unaligned */
	default:
		return (below(f, 2 * REGION_PAGES) + 1) * page_size;
	}
}

/* A user pointer the module writes to: scratch mostly, never our own. */
static __u64 pick_out(struct fuzzer *f)
{
	if (one_in(f, 4))
		return pick_addr(f);
	return (uintptr_t)f->r[R_SCRATCH].addr +
	       below(f, SCRATCH_SIZE / 2 / page_size) * page_size;
}

static __u32 pick_u32(struct fuzzer *f, __u32 sane)
{
	switch (below(f, 6)) {
	case 0:
		return boundary(f);
	case 1:
		return rnd(f);
	default:
		return sane;
	}
}

static struct session *find_session(struct gup_file *gf, __u32 id)
{
	int i;

	for (i = 0; i < gf->nr_sessions; i++)
		if (gf->sessions[i].id == id)
			return &gf->sessions[i];
	return NULL;
}

static __u32 pick_id(struct fuzzer *f, struct gup_file *gf)
{
	if (gf->nr_sessions && !one_in(f, 5))
		return gf->sessions[below(f, gf->nr_sessions)].id;
	return pick_u32(f, below(f, 4));
}

/* The module's own rule (gup_test_abi.h): which ways release a session. */
static bool unpin_way_valid(const struct session *s, __u32 how)
{
	if (how >= GUP_UNPIN_NR)
		return false;
	if (!api_pins(s->api))
		return how == GUP_UNPIN_PUT ||
		       (how == GUP_UNPIN_PUT_DEVICE_DIRTY &&
			(s->flags & GUP_PIN_WRITE));
	if (how == GUP_UNPIN_PUT || how == GUP_UNPIN_PUT_DEVICE_DIRTY)
		return false;
	if (how != GUP_UNPIN_PLAIN && how != GUP_UNPIN_CLEAN_LOCK)
		return s->flags & GUP_PIN_WRITE;
	return true;
}

/*
 * Whether a pin of [addr, addr + size) with flags must get every page: the
 * range lies inside one region that such a pin can take whole.
 */
static bool pin_takes_all(struct fuzzer *f, __u64 addr, __u64 size,
			  __u32 flags)
{
	bool write = flags & GUP_PIN_WRITE;
	int k;

	if (!size || (addr | size) & (page_size - 1))
		return false;
	for (k = 0; k < R_NR; k++) {
		__u64 start = (uintptr_t)f->r[k].addr;

		if (!f->r[k].size || addr < start ||
		    addr + size > start + f->r[k].size || addr + size < addr)
			continue;
		if (k < MEM_KINDS)
			return pin_flags_allowed(k, flags) == flags;
		return k == R_RO ? !write : k == R_SCRATCH;
	}
	return false;
}

/* The pins a held range counts: its pages less zero pages not counted. */
static long long counted_pins(struct fuzzer *f, int fd, __u32 id,
			      __u64 addr, __u64 nr)
{
	struct gup_page_state *ps = (void *)(f->r[R_SCRATCH].addr +
					     SCRATCH_SIZE / 2);
	struct gup_page_query q = {
		.id = id, .start = id ? 0 : addr, .count = nr,
		.states = (uintptr_t)ps,
	};
	long long pins = nr;
	__u64 i;

	if (kernel_expect()->zero_page_pins_counted)
		return pins;
	if (ioctl(fd, GUP_PIN_QUERY, &q) || q.count != nr)
		return -1;
	for (i = 0; i < nr; i++)
		if (ps[i].flags & GUP_PS_ZERO_PAGE)
			pins--;
	return pins;
}

struct call {
	unsigned long cmd;
	bool known;
	bool arg_ok;		/* arg points at a good copy of the struct */
	union {
		struct gup_test gup;
		struct pin_longterm_test lt;
		__u64 u64;
		struct gup_pin_session pin;
		struct gup_unpin_session unpin;
		struct gup_page_query query;
		struct gup_dma dma;
		struct gup_bench bench;
	} a;
};

static const unsigned long known_cmds[] = {
	GUP_FAST_BENCHMARK, PIN_FAST_BENCHMARK, PIN_LONGTERM_BENCHMARK,
	GUP_BASIC_TEST, PIN_BASIC_TEST, DUMP_USER_PAGES_TEST,
	PIN_LONGTERM_TEST_START, PIN_LONGTERM_TEST_STOP,
	PIN_LONGTERM_TEST_READ, GUP_PIN_START, GUP_PIN_STOP, GUP_PIN_QUERY,
	GUP_DMA, GUP_BENCH,
};

static bool is_known(unsigned long cmd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known_cmds); i++)
		if (known_cmds[i] == cmd)
			return true;
	return false;
}

static void fill_args(struct fuzzer *f, struct gup_file *gf, struct call *c)
{
	memset(&c->a, 0, sizeof(c->a));
	switch (c->cmd) {
	case GUP_FAST_BENCHMARK:
	case PIN_FAST_BENCHMARK:
	case PIN_LONGTERM_BENCHMARK:
	case GUP_BASIC_TEST:
	case PIN_BASIC_TEST:
	case DUMP_USER_PAGES_TEST:
		c->a.gup.addr = pick_addr(f);
		c->a.gup.size = pick_size(f);
		c->a.gup.nr_pages_per_call = pick_u32(f, 1 << below(f, 10));
		c->a.gup.gup_flags = pick_u32(f, below(f, 4));
		c->a.gup.test_flags = pick_u32(f, below(f, 2));
		/* dump_page() is loud: now and then, a page or two. */
		if (one_in(f, 64)) {
			c->a.gup.which_pages[0] = pick_u32(f, 1);
			c->a.gup.which_pages[below(f, 8)] = below(f, 32);
		}
		break;
	case PIN_LONGTERM_TEST_START:
		c->a.lt.addr = pick_addr(f);
		c->a.lt.size = pick_size(f);
		c->a.lt.flags = pick_u32(f, below(f, 4));
		break;
	case PIN_LONGTERM_TEST_READ:
		c->a.u64 = pick_out(f);
		break;
	case GUP_PIN_START:
		c->a.pin.addr = pick_addr(f);
		c->a.pin.size = pick_size(f);
		c->a.pin.api = pick_u32(f, below(f, GUP_API_NR));
		c->a.pin.flags = pick_u32(f, below(f, 4));
		c->a.pin.reserved = one_in(f, 16) ? rnd(f) : 0;
		c->a.pin.id = pick_u32(f, 0);
		break;
	case GUP_PIN_STOP:
		c->a.unpin.id = pick_id(f, gf);
		c->a.unpin.how = pick_u32(f, below(f, GUP_UNPIN_NR));
		break;
	case GUP_PIN_QUERY:
		c->a.query.id = one_in(f, 2) ? 0 : pick_id(f, gf);
		c->a.query.reserved = one_in(f, 16) ? rnd(f) : 0;
		c->a.query.start = c->a.query.id ? pick_u32(f, below(f, 32)) :
				   pick_addr(f);
		c->a.query.count = one_in(f, 4) ? boundary(f) :
				   below(f, 2 * REGION_PAGES);
		c->a.query.states = pick_out(f);
		break;
	case GUP_DMA:
		c->a.dma.id = pick_id(f, gf);
		c->a.dma.dir = pick_u32(f, below(f, 2));
		c->a.dma.offset = one_in(f, 4) ? boundary(f) :
				  below(f, 4 * page_size);
		c->a.dma.len = one_in(f, 4) ? boundary(f) :
			       below(f, 8 * page_size);
		c->a.dma.buf = pick_out(f);
		break;
	case GUP_BENCH:
		c->a.bench.addr = pick_addr(f);
		c->a.bench.size = pick_size(f);
		c->a.bench.api = pick_u32(f, below(f, GUP_API_NR));
		c->a.bench.flags = pick_u32(f, below(f, 4));
		c->a.bench.nr_pages_per_call = pick_u32(f, 1 << below(f, 11));
		c->a.bench.reserved = one_in(f, 16) ? rnd(f) : 0;
		break;
	default:
		/* Unknown: random bytes. */
		c->a.bench.addr = rnd(f);
		c->a.bench.size = rnd(f);
		break;
	}
}

static void pick_cmd(struct fuzzer *f, struct call *c)
{
	unsigned long cmd = known_cmds[below(f, ARRAY_SIZE(known_cmds))];

	switch (below(f, 20)) {
	case 0:	/* a known number with another size or direction */
		cmd = _IOC(below(f, 4), 'g', _IOC_NR(cmd),
			   one_in(f, 2) ? below(f, 128) : _IOC_SIZE(cmd));
		break;
	case 1:	/* any number, any type */
		cmd = _IOC(below(f, 4), one_in(f, 2) ? 'g' : below(f, 256),
			   below(f, 256), below(f, 256));
		break;
	default:
		break;
	}
	c->cmd = cmd;
	c->known = is_known(cmd);
}

/*
 * Where the argument lives: a good copy mostly, else a pointer the module
 * cannot read, or one it can read and not write. arg_ok says whether the
 * command can do its work with it.
 */
static void *pick_argp(struct fuzzer *f, struct call *c)
{
	void *argp = &c->a;

	switch (below(f, 32)) {
	case 0:
		argp = NULL;
		break;
	case 1:
		argp = (void *)0xffff888000000000ULL;
		break;
	case 2:
		argp = f->r[R_NONE].addr;
		break;
	case 3:
		memcpy(f->arg_rw, &c->a, sizeof(c->a));
		c->arg_ok = !(_IOC_DIR(c->cmd) & _IOC_READ);
		return f->arg_ro;
	default:
		c->arg_ok = true;
		return argp;
	}
	/* The one command without an argument does not look. */
	c->arg_ok = c->cmd == PIN_LONGTERM_TEST_STOP;
	return argp;
}

/* The errnos a known command may give; anything else is a failure. */
static bool errno_allowed(unsigned long cmd, int err)
{
	switch (err) {
	case EINVAL:
	case EFAULT:
	case E2BIG:
	case ENOMEM:
		return true;
	case EPERM:
		return cmd == GUP_DMA;
	case EINTR:
		return cmd == GUP_BENCH;
	case EOPNOTSUPP:
		/* FOLL_LONGTERM of fsdax memory (the dax regions). */
		return cmd == GUP_PIN_START || cmd == PIN_LONGTERM_TEST_START ||
		       cmd == GUP_BENCH;
	default:
		return false;
	}
}

struct verdict {
	char why[256];
};

/* Records why a result is wrong; returns -1 for the caller to return. */
#define wrong(v, fmt, ...) ({						\
	snprintf((v)->why, sizeof((v)->why), fmt, ##__VA_ARGS__);	\
	-1;								\
})

/* Whether a GUP_PIN_START asks for nothing the module refuses. */
static bool pin_request_valid(const struct gup_pin_session *p)
{
	if (p->api >= GUP_API_NR || p->flags & ~GUP_PIN_FLAGS || p->reserved)
		return false;
	return api_pins(p->api) || !(p->flags & GUP_PIN_LONGTERM);
}

/* Errors every call is judged by, before the model is asked. */
static int check_errno(struct fuzzer *f, struct call *c, int err,
		       struct verdict *v)
{
	const struct gup_pin_session *p = &c->a.pin;

	if (!c->known) {
		f->unknown_cmds++;
		if (err != ENOTTY)
			return wrong(v, "unknown cmd %#lx gave %d, not ENOTTY",
				     c->cmd, err);
		return 0;
	}
	if (err && !errno_allowed(c->cmd, err))
		return wrong(v, "cmd %#lx gave errno %d (%s)", c->cmd, err,
			     strerror(err));
	if (err && c->cmd == PIN_LONGTERM_TEST_STOP)
		return wrong(v, "PIN_LONGTERM_TEST_STOP gave %d", err);
	if (err == EOPNOTSUPP && c->cmd == GUP_PIN_START &&
	    !(p->flags & GUP_PIN_LONGTERM))
		return wrong(v, "a short-term pin gave EOPNOTSUPP");
	if (!c->arg_ok) {
		f->arg_faults++;
		/* Nothing may be kept that user space cannot name. */
		if (!err)
			return wrong(v, "cmd %#lx took a bad argument pointer",
				     c->cmd);
		return 0;
	}
	/* A valid request that can take every page gets it, or a limit. */
	if (c->cmd == GUP_PIN_START && err && err != E2BIG && err != ENOMEM &&
	    pin_request_valid(p) &&
	    pin_takes_all(f, p->addr, p->size, p->flags))
		return wrong(v, "pin of %llu bytes at %#llx (api %u flags %#x) gave %d",
			     (unsigned long long)p->size,
			     (unsigned long long)p->addr, p->api, p->flags,
			     err);
	return 0;
}

static int account_pin_start(struct fuzzer *f, int slot, struct call *c,
			     struct verdict *v)
{
	const struct gup_pin_session *p = &c->a.pin;
	struct gup_file *gf = f->file_of[slot];
	__u64 asked = p->size / page_size;
	struct session *s;

	/* Cyclic ids: each new one above the last, until they wrap. */
	if (!p->id || p->id <= gf->last_id)
		return wrong(v, "new session got id %u after %u", p->id,
			     gf->last_id);
	gf->last_id = p->id;
	if (!p->nr_pages || p->nr_pages > asked ||
	    (pin_takes_all(f, p->addr, p->size, p->flags) &&
	     p->nr_pages != asked))
		return wrong(v, "pin of %llu pages at %#llx held %llu",
			     (unsigned long long)asked,
			     (unsigned long long)p->addr,
			     (unsigned long long)p->nr_pages);
	if (gf->nr_sessions == MAX_SESSIONS)
		return wrong(v, "more sessions than the model keeps");

	s = &gf->sessions[gf->nr_sessions++];
	s->id = p->id;
	s->api = p->api;
	s->flags = p->flags;
	s->pins = 0;
	if (api_pins(s->api)) {
		s->pins = counted_pins(f, f->fds[slot], s->id, 0, p->nr_pages);
		if (s->pins < 0)
			return wrong(v, "query of session %u failed", s->id);
	}
	f->held += s->pins;
	f->sessions++;
	if (f->held > f->max_held)
		f->max_held = f->held;
	return 0;
}

/* Checks one call's result against the model and updates the model. */
static int account(struct fuzzer *f, int slot, struct call *c, int err,
		   struct verdict *v)
{
	struct gup_file *gf = f->file_of[slot];
	struct session *s;
	long long pins;

	if (check_errno(f, c, err, v))
		return -1;
	if (!c->known || !c->arg_ok || err)
		return 0;
	f->ok++;

	switch (c->cmd) {
	case GUP_PIN_START:
		return account_pin_start(f, slot, c, v);
	case GUP_PIN_STOP:
		s = find_session(gf, c->a.unpin.id);
		if (!s || !unpin_way_valid(s, c->a.unpin.how))
			return wrong(v, "stop of session %u how %u succeeded (known %d)",
				     c->a.unpin.id, c->a.unpin.how, !!s);
		f->held -= s->pins;
		*s = gf->sessions[--gf->nr_sessions];
		break;
	case PIN_LONGTERM_TEST_START:
		if (gf->longterm_pins >= 0)
			return wrong(v, "a second long-term test on one file");
		pins = counted_pins(f, f->fds[slot], 0, c->a.lt.addr,
				    c->a.lt.size / page_size);
		if (pins < 0)
			return wrong(v, "query of long-term pages failed");
		gf->longterm_pins = pins;
		f->held += pins;
		break;
	case PIN_LONGTERM_TEST_STOP:
		if (gf->longterm_pins > 0)
			f->held -= gf->longterm_pins;
		gf->longterm_pins = -1;
		break;
	case PIN_LONGTERM_TEST_READ:
		if (gf->longterm_pins < 0)
			return wrong(v, "long-term read with no test running");
		break;
	case GUP_PIN_QUERY:
		if (c->a.query.count > GUP_QUERY_MAX)
			return wrong(v, "query filled %llu entries",
				     (unsigned long long)c->a.query.count);
		break;
	case GUP_DMA:
		s = find_session(gf, c->a.dma.id);
		if (!s)
			return wrong(v, "DMA to unknown session %u",
				     c->a.dma.id);
		if (c->a.dma.dir == GUP_DMA_TO_PAGES &&
		    !(s->flags & GUP_PIN_WRITE))
			return wrong(v, "DMA into a read-only session");
		break;
	default:
		break;
	}
	return 0;
}

/* The model's stop results, exactly: checked where the model can tell. */
static int expect_stop(struct fuzzer *f, int slot, struct call *c, int err,
		       struct verdict *v)
{
	struct session *s;

	if (c->cmd != GUP_PIN_STOP || !c->arg_ok)
		return 0;
	s = find_session(f->file_of[slot], c->a.unpin.id);
	if (s && unpin_way_valid(s, c->a.unpin.how)) {
		if (err)
			return wrong(v, "stop of session %u how %u gave %d",
				     c->a.unpin.id, c->a.unpin.how, err);
	} else if (err != EINVAL) {
		return wrong(v, "stop of session %u how %u gave %d, not EINVAL",
			     c->a.unpin.id, c->a.unpin.how, err);
	}
	return 0;
}

static void file_drop(struct fuzzer *f, struct gup_file *gf)
{
	int i;

	if (--gf->nr_fds)
		return;
	/* The last fd: the module releases everything the file held. */
	for (i = 0; i < gf->nr_sessions; i++)
		f->held -= gf->sessions[i].pins;
	if (gf->longterm_pins > 0)
		f->held -= gf->longterm_pins;
	free(gf);
}

static int file_open(struct fuzzer *f, int slot)
{
	struct gup_file *gf;
	int fd;

	/* dup() of another slot's fd now and then: one file, two fds. */
	if (slot > 0 && one_in(f, 4) && f->fds[slot - 1] >= 0) {
		fd = dup(f->fds[slot - 1]);
		if (fd < 0)
			return -1;
		f->fds[slot] = fd;
		f->file_of[slot] = f->file_of[slot - 1];
		f->file_of[slot]->nr_fds++;
		return 0;
	}
	fd = gup_open();
	gf = calloc(1, sizeof(*gf));
	if (fd < 0 || !gf) {
		free(gf);
		return -1;
	}
	gf->nr_fds = 1;
	gf->longterm_pins = -1;
	f->fds[slot] = fd;
	f->file_of[slot] = gf;
	return 0;
}

static void file_close(struct fuzzer *f, int slot)
{
	close(f->fds[slot]);
	f->fds[slot] = -1;
	file_drop(f, f->file_of[slot]);
	f->file_of[slot] = NULL;
}

static long long pins_held_by_kernel(struct fuzzer *f)
{
	return (vmstat("nr_foll_pin_acquired") - f->acq0) -
	       (vmstat("nr_foll_pin_released") - f->rel0);
}

/*
 * Maps region k at its slot; the rest of the slot stays a hole, as does
 * the region of a kind the kernel lacks or the slot cannot hold.
 */
static int map_region(struct fuzzer *f, int k, char *why, size_t why_len)
{
	struct region *r = &f->r[k];
	size_t size = REGION_PAGES * page_size, i;
	int ret;

	r->addr = f->area + k * SLOT_SIZE;
	r->mem.fd = -1;
	if (k < MEM_KINDS) {
		if (mem_type(k)->props & MEM_P_WIDE)
			return 0;
		ret = mem_setup_at(&r->mem, k, REGION_PAGES, r->addr, why,
				   why_len);
		if (ret == KSFT_SKIP) {
			ksft_print_msg("no %s region: %s\n", region_name(k),
				       why);
			return 0;
		}
		if (ret)
			return -1;
		r->size = r->mem.size;
		return 0;
	}
	if (k == R_HOLE)
		return 0;
	if (k == R_SCRATCH)
		size = SCRATCH_SIZE;
	if (mmap(r->addr, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
		snprintf(why, why_len, "mmap %s: %s", region_name(k),
			 strerror(errno));
		return -1;
	}
	for (i = 0; k != R_SCRATCH && i < size; i += page_size)
		r->addr[i] = (char)(i / page_size + 1);
	if (k == R_NONE)
		mprotect(r->addr, size, PROT_NONE);
	else if (k == R_RO)
		mprotect(r->addr, size, PROT_READ);
	r->size = size;
	return 0;
}

static int fuzzer_setup(struct fuzzer *f, char *why, size_t why_len)
{
	char *reserve;
	int k;

	f->arg_fd = memfd_create("gup_fuzz_arg", 0);
	if (f->arg_fd < 0 || ftruncate(f->arg_fd, page_size)) {
		snprintf(why, why_len, "memfd: %s", strerror(errno));
		return -1;
	}
	f->arg_rw = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 f->arg_fd, 0);
	f->arg_ro = mmap(NULL, page_size, PROT_READ, MAP_SHARED, f->arg_fd, 0);
	if (f->arg_rw == MAP_FAILED || f->arg_ro == MAP_FAILED) {
		snprintf(why, why_len, "mmap arg page: %s", strerror(errno));
		return -1;
	}

	/*
	 * One reservation for every region, aligned to a huge page, each region
	 * followed by a hole: no range runs from a region into memory of
	 * ours, so whatever the module writes lands in test memory.
	 */
	f->area_size = R_NR * SLOT_SIZE;
	reserve = mmap(NULL, f->area_size + huge_size(), PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (reserve == MAP_FAILED) {
		snprintf(why, why_len, "reserve: %s", strerror(errno));
		return -1;
	}
	f->area = (char *)(((uintptr_t)reserve + huge_size() - 1) &
			   ~(huge_size() - 1));
	munmap(reserve, f->area - reserve);
	munmap(f->area + f->area_size,
	       reserve + f->area_size + huge_size() - (f->area + f->area_size));
	munmap(f->area, f->area_size);
	for (k = 0; k < R_NR; k++)
		if (map_region(f, k, why, why_len))
			return -1;
	return 0;
}

static void fuzzer_teardown(struct fuzzer *f)
{
	int i, k;

	for (i = 0; i < NR_FDS; i++)
		if (f->fds[i] >= 0)
			file_close(f, i);
	if (f->area)
		munmap(f->area, f->area_size);
	f->area = NULL;
	if (f->arg_rw && f->arg_rw != MAP_FAILED)
		munmap(f->arg_rw, page_size);
	if (f->arg_ro && f->arg_ro != MAP_FAILED)
		munmap(f->arg_ro, page_size);
	f->arg_rw = NULL;
	f->arg_ro = NULL;
	if (f->arg_fd >= 0)
		close(f->arg_fd);
	f->arg_fd = -1;
	for (k = 0; k < MEM_KINDS; k++)
		mem_teardown(&f->r[k].mem);
}

static unsigned long env_ulong(const char *name, unsigned long def)
{
	const char *s = getenv(name);

	return s && *s ? strtoul(s, NULL, 0) : def;
}

FIXTURE(fuzz)
{
	struct fuzzer f;
	struct pin_ledger before;
};

FIXTURE_SETUP(fuzz)
{
	char why[256] = "";
	int fd, i;

	memset(&self->f, 0, sizeof(self->f));
	self->f.arg_fd = -1;
	for (i = 0; i < NR_FDS; i++)
		self->f.fds[i] = -1;
	for (i = 0; i < MEM_KINDS; i++)
		self->f.r[i].mem.fd = -1;
	fd = gup_open();
	if (gup_open_skip(fd))
		SETUP_SKIP(return, "%s", gup_open_skip(fd));
	ASSERT_LE(0, fd) TH_LOG("open gup_test: %s", strerror(-fd));
	close(fd);
	kernel_expect();
	pin_ledger_read(&self->before);
	ASSERT_EQ(0, fuzzer_setup(&self->f, why, sizeof(why)))
		TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(fuzz)
{
	fuzzer_teardown(&self->f);
}

TEST_F_TIMEOUT(fuzz, ioctls, 600)
{
	unsigned long nr = env_ulong("GUP_FUZZ_IOCTLS", NR_IOCTLS);
	struct fuzzer *f = &self->f;
	struct verdict v = { "" };
	char why[256] = "";
	__u64 seed;
	struct call c;
	void *argp;
	int slot, ret, err, i;

	SETUP_SKIPPED(return);
	seed = env_ulong("GUP_FUZZ_SEED", 0);
	if (!seed)
		seed = (__u64)time(NULL) * 2654435761u ^ getpid();
	gup_report("fuzz: seed %llu (GUP_FUZZ_SEED repeats it), %lu ioctls\n",
		   (unsigned long long)seed, nr);
	f->rng = seed | 1;
	for (i = 0; i < NR_FDS; i++)
		ASSERT_EQ(0, file_open(f, i));
	f->acq0 = vmstat("nr_foll_pin_acquired");
	f->rel0 = vmstat("nr_foll_pin_released");

	for (f->calls = 0; f->calls < nr; f->calls++) {
		slot = below(f, NR_FDS);
		if (one_in(f, 500)) {
			file_close(f, slot);
			ASSERT_EQ(0, file_open(f, slot));
		}
		pick_cmd(f, &c);
		fill_args(f, f->file_of[slot], &c);
		argp = pick_argp(f, &c);
		ret = ioctl(f->fds[slot], c.cmd, argp);
		err = ret ? errno : 0;
		ASSERT_TRUE(ret == 0 || ret == -1)
			TH_LOG("call %lu: cmd %#lx returned %d", f->calls,
			       c.cmd, ret);
		if (err < (int)ARRAY_SIZE(f->errs))
			f->errs[err]++;
		ASSERT_EQ(0, expect_stop(f, slot, &c, err, &v))
			TH_LOG("seed %llu call %lu: %s",
			       (unsigned long long)seed, f->calls, v.why);
		ASSERT_EQ(0, account(f, slot, &c, err, &v))
			TH_LOG("seed %llu call %lu: %s",
			       (unsigned long long)seed, f->calls, v.why);
		if (f->calls % CHECK_EVERY == CHECK_EVERY - 1)
			ASSERT_EQ(f->held, pins_held_by_kernel(f))
				TH_LOG("seed %llu call %lu: model and kernel differ",
				       (unsigned long long)seed, f->calls);
	}
	ASSERT_EQ(f->held, pins_held_by_kernel(f));
	gup_report("fuzz: %lu ioctls, %lu succeeded (%lu sessions, at most %lld pins held)\n",
		   f->calls, f->ok, f->sessions, f->max_held);
	gup_report("fuzz: %lu unknown commands (ENOTTY), %lu bad argument pointers\n",
		   f->unknown_cmds, f->arg_faults);
	gup_report("fuzz: errnos: EINVAL %lu EFAULT %lu E2BIG %lu ENOMEM %lu EPERM %lu\n",
		   f->errs[EINVAL], f->errs[EFAULT], f->errs[E2BIG],
		   f->errs[ENOMEM], f->errs[EPERM]);
	/* Some sessions are still held: closing must release them. */
	fuzzer_teardown(f);
	ASSERT_EQ(0, f->held) TH_LOG("the model lost track of %lld pins",
				     f->held);
	ASSERT_EQ(0, pin_ledger_check(&self->before, why, sizeof(why)))
		TH_LOG("after the fuzz: %s", why);
}

TEST_HARNESS_MAIN
